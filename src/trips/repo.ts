import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { isoWeekStart, type TripRow, timeBucket, tripCells } from "./rows";

/** What each inserted trip adds to the rollups: the columns {@link rollupFolds} reads. */
const FOLD_COLUMNS = sql.raw(
  "region, origin_cell, dest_cell, time_bucket, week_start, origin_lat, origin_lon, dest_lat, dest_lon",
);

/**
 * The three rollup upserts as CTEs, adding up the trips of `rows` (a relation with
 * {@link FOLD_COLUMNS}): the one place the rollups are written.
 */
function rollupFolds(rows: SQL): SQL {
  return sql`region_weeks AS (
      INSERT INTO trip_region_weeks AS t (region, week_start, trips)
      SELECT region, week_start, count(*) FROM ${rows} GROUP BY 1, 2
      ON CONFLICT (region, week_start) DO UPDATE SET trips = t.trips + excluded.trips
    ), cell_weeks AS (
      INSERT INTO trip_cell_weeks AS t (origin_cell, week_start, trips)
      SELECT origin_cell, week_start, count(*) FROM ${rows} GROUP BY 1, 2
      ON CONFLICT (origin_cell, week_start) DO UPDATE SET trips = t.trips + excluded.trips
    ), groups AS (
      INSERT INTO trip_groups AS t (region, origin_cell, dest_cell, time_bucket, trips,
                                    sum_origin_lat, sum_origin_lon, sum_dest_lat, sum_dest_lon)
      SELECT region, origin_cell, dest_cell, time_bucket, count(*),
             sum(origin_lat), sum(origin_lon), sum(dest_lat), sum(dest_lon)
      FROM ${rows} GROUP BY 1, 2, 3, 4
      ON CONFLICT (region, origin_cell, dest_cell, time_bucket) DO UPDATE SET trips = t.trips + excluded.trips,
        sum_origin_lat = t.sum_origin_lat + excluded.sum_origin_lat, sum_origin_lon = t.sum_origin_lon + excluded.sum_origin_lon,
        sum_dest_lat = t.sum_dest_lat + excluded.sum_dest_lat, sum_dest_lon = t.sum_dest_lon + excluded.sum_dest_lon
    )`;
}

/**
 * Inserts the trips `source` selects (the columns of `trips`, in order); a row already stored
 * (same job, line and start) is skipped. Yields the inserted rows' {@link FOLD_COLUMNS} as `ins`.
 */
const insertTrips = (source: SQL) => sql`ins AS (
      INSERT INTO trips (job_id, line, region, origin_lon, origin_lat, dest_lon, dest_lat, started_at, datasource,
                         origin_cell, dest_cell, time_bucket, week_start)
      ${source}
      ON CONFLICT DO NOTHING
      RETURNING ${FOLD_COLUMNS}
    )`;

/**
 * Inserts a chunk of trips with its cells, bucket and week, and folds the ones actually inserted
 * into the rollups in the same statement: a replayed chunk inserts no trip (primary key on job and
 * line) and so adds nothing to any rollup. Returns the trips inserted.
 */
export async function insertTripChunk(
  db: Db,
  jobId: string,
  rows: TripRow[],
  resolution: number,
): Promise<number> {
  if (rows.length === 0) return 0;
  const cells = rows.map((r) => tripCells(r, resolution));
  const col = <T>(f: (r: TripRow, i: number) => T) => sql.param(rows.map(f));
  const source = sql`SELECT ${jobId}, u.* FROM unnest(
        ${col((r) => r.line)}::int[], ${col((r) => r.region)}::text[], ${col((r) => r.originLon)}::float8[],
        ${col((r) => r.originLat)}::float8[], ${col((r) => r.destLon)}::float8[], ${col((r) => r.destLat)}::float8[],
        ${col((r) => r.startedAt)}::timestamp[], ${col((r) => r.datasource)}::text[],
        ${col((_, i) => cells[i]?.origin)}::text[], ${col((_, i) => cells[i]?.dest)}::text[],
        ${col((r) => timeBucket(r.startedAt))}::smallint[], ${col((r) => isoWeekStart(r.startedAt))}::date[]) AS u`;
  const result = await db.execute<{ inserted: string }>(
    sql`WITH ${insertTrips(source)}, ${rollupFolds(sql`ins`)} SELECT count(*)::text AS inserted FROM ins`,
  );
  return Number(result.rows[0]?.inserted ?? 0);
}

/**
 * For bulk loads: moves the trips in `stage` (a table shaped like `trips`, cells, bucket and week
 * filled in) into `trips`, skipping rows already stored, and appends what the inserted ones add to
 * the rollups to `pending` (a table of {@link FOLD_COLUMNS}, see {@link createPendingFolds}).
 * Folding once at the end ({@link foldPendingTrips}) upserts each rollup row once instead of once
 * per batch. Returns the trips inserted.
 */
export async function insertStagedTrips(db: Db, stage: string, pending: string): Promise<number> {
  const source = sql`SELECT job_id, line, region, origin_lon, origin_lat, dest_lon, dest_lat, started_at, datasource,
               origin_cell, dest_cell, time_bucket, week_start FROM ${sql.identifier(stage)}`;
  const result = await db.execute<{ inserted: string }>(sql`
    WITH ${insertTrips(source)}, kept AS (INSERT INTO ${sql.identifier(pending)} SELECT * FROM ins)
    SELECT count(*)::text AS inserted FROM ins`);
  return Number(result.rows[0]?.inserted ?? 0);
}

/** A temporary table for {@link insertStagedTrips}, dropped at the end of the transaction. */
export async function createPendingFolds(db: Db, pending: string): Promise<void> {
  await db.execute(sql`
    CREATE TEMP TABLE ${sql.identifier(pending)} ON COMMIT DROP AS SELECT ${FOLD_COLUMNS} FROM trips WITH NO DATA`);
}

/**
 * Folds the rows of `pending` into the rollups, set-based. Run it in the transaction that inserted
 * the trips, so the rollups never disagree with the raw rows, even when a load is interrupted.
 */
export async function foldPendingTrips(db: Db, pending: string): Promise<void> {
  await db.execute(sql`WITH ${rollupFolds(sql`${sql.identifier(pending)}`)} SELECT 1`);
}

/** Trips and the first and last week they fall in, for a weekly average. */
export interface WeekCount {
  trips: number;
  firstWeek: string | null;
  lastWeek: string | null;
}

function weekCount(
  row: { trips: string | null; first: string | null; last: string | null } | undefined,
): WeekCount {
  return { trips: Number(row?.trips ?? 0), firstWeek: row?.first ?? null, lastWeek: row?.last ?? null };
}

/** A region's trips in the weeks from `fromWeek` to `toWeek` (ISO week Mondays, both optional), from the rollup. */
export async function regionWeeks(
  db: Db,
  region: string,
  fromWeek: string | null,
  toWeek: string | null,
): Promise<WeekCount> {
  const result = await db.execute<{ trips: string | null; first: string | null; last: string | null }>(sql`
    SELECT sum(trips)::text AS trips, min(week_start)::text AS first, max(week_start)::text AS last
    FROM trip_region_weeks
    WHERE region = ${region} AND (${fromWeek}::date IS NULL OR week_start >= ${fromWeek}::date)
      AND (${toWeek}::date IS NULL OR week_start <= ${toWeek}::date)`);
  return weekCount(result.rows[0]);
}

/**
 * Trips whose origin is inside a box: cells wholly inside come from the cell rollup; cells the box's
 * edge crosses are settled trip by trip from the raw table (through the cell and week index), so the
 * count is exact while the raw rows read are only those along the edge.
 */
export async function boxWeeks(
  db: Db,
  box: { minLon: number; minLat: number; maxLon: number; maxLat: number },
  inside: string[],
  edge: string[],
  fromWeek: string | null,
  toWeek: string | null,
): Promise<WeekCount> {
  const result = await db.execute<{ trips: string | null; first: string | null; last: string | null }>(sql`
    WITH parts AS (
      SELECT week_start, trips FROM trip_cell_weeks
      WHERE origin_cell = ANY(${sql.param(inside)}::text[])
        AND (${fromWeek}::date IS NULL OR week_start >= ${fromWeek}::date)
        AND (${toWeek}::date IS NULL OR week_start <= ${toWeek}::date)
      UNION ALL
      SELECT week_start, 1 FROM trips
      WHERE origin_cell = ANY(${sql.param(edge)}::text[])
        AND origin_lon BETWEEN ${box.minLon} AND ${box.maxLon} AND origin_lat BETWEEN ${box.minLat} AND ${box.maxLat}
        AND (${fromWeek}::date IS NULL OR week_start >= ${fromWeek}::date)
        AND (${toWeek}::date IS NULL OR week_start <= ${toWeek}::date)
    )
    SELECT sum(trips)::text AS trips, min(week_start)::text AS first, max(week_start)::text AS last FROM parts`);
  return weekCount(result.rows[0]);
}

/** A group of similar trips. */
export interface TripGroup extends Record<string, unknown> {
  origin_cell: string;
  dest_cell: string;
  time_bucket: number;
  region: string;
  trips: number;
  origin_lat: number;
  origin_lon: number;
  dest_lat: number;
  dest_lon: number;
}

/** The largest groups of a region with at least `minTrips` trips. */
export async function tripGroups(
  db: Db,
  region: string | null,
  minTrips: number,
  limit: number,
): Promise<TripGroup[]> {
  const result = await db.execute<TripGroup>(sql`
    SELECT origin_cell, dest_cell, time_bucket, region, trips::int AS trips,
           sum_origin_lat / trips AS origin_lat, sum_origin_lon / trips AS origin_lon,
           sum_dest_lat / trips AS dest_lat, sum_dest_lon / trips AS dest_lon
    FROM trip_groups
    WHERE (${region}::text IS NULL OR region = ${region}) AND trips >= ${minTrips}
    ORDER BY trips DESC, origin_cell, dest_cell, time_bucket
    LIMIT ${limit}`);
  return result.rows.map((g) => ({ ...g, trips: Number(g.trips), time_bucket: Number(g.time_bucket) }));
}

import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { courierPositions } from "../db/schema";
import type { Fix } from "./schemas";

/**
 * Writes fixes in one multi-row INSERT. Idempotent: a fix already stored (same courier and
 * recorded time) is skipped, so a replayed flush never duplicates. Returns the rows inserted.
 */
export async function insertPositions(db: Db, fixes: Fix[]): Promise<number> {
  if (fixes.length === 0) return 0;
  const inserted = await db
    .insert(courierPositions)
    .values(
      fixes.map((f) => ({
        courierId: f.courierId,
        recordedAt: new Date(f.recordedAt),
        location: { lon: f.lon, lat: f.lat },
        speedMps: f.speedMps ?? null,
        headingDeg: f.headingDeg ?? null,
        accuracyM: f.accuracyM ?? null,
        state: f.state ?? null,
        taskId: f.taskId ?? null,
      })),
    )
    .onConflictDoNothing()
    .returning({ id: courierPositions.id });
  return inserted.length;
}

/**
 * Deletes positions recorded before `before`, a chunk per statement, so each statement holds its
 * row locks briefly and writers are never blocked for long. Stops after `maxChunks`; returns how
 * many rows went and whether some are left for the next run.
 */
export async function deletePositionsBefore(
  db: Db,
  before: Date,
  chunk = 5000,
  maxChunks = 20,
): Promise<{ deleted: number; more: boolean }> {
  let deleted = 0;
  for (let i = 0; i < maxChunks; i++) {
    const result = await db.execute(sql`
      DELETE FROM courier_positions WHERE id IN (
        SELECT id FROM courier_positions WHERE recorded_at < ${before.toISOString()}::timestamptz LIMIT ${chunk})`);
    const n = result.rowCount ?? 0;
    deleted += n;
    if (n < chunk) return { deleted, more: false };
  }
  return { deleted, more: true };
}

/** A courier's track as GeoJSON, with how it was reduced. */
export interface Track {
  type: "Feature";
  geometry: { type: "LineString" | "Point"; coordinates: number[][] | number[] } | null;
  properties: {
    courier_id: string;
    from: string;
    to: string;
    first_fix_at: string | null;
    last_fix_at: string | null;
    fixes: number;
    points: number;
    simplified: boolean;
  };
}

/**
 * The courier's positions between `from` and `to` as a LineString in time order. Above
 * `maxPoints` fixes the line is simplified (Douglas-Peucker, tolerance scaled to the track's
 * extent) so a day-long track stays a few thousand points; the unique (courier, time) index makes
 * this a range scan over one courier's rows.
 */
export async function readTrack(
  db: Db,
  courierId: string,
  from: Date,
  to: Date,
  maxPoints = 2000,
): Promise<Track> {
  const result = await db.execute<{
    n: string;
    first: string | null;
    last: string | null;
    geojson: string | null;
  }>(sql`
    WITH line AS (
      SELECT ST_MakeLine(location::geometry ORDER BY recorded_at) AS l, count(*) AS n,
             min(recorded_at) AS first, max(recorded_at) AS last
      FROM courier_positions
      WHERE courier_id = ${courierId} AND recorded_at >= ${from.toISOString()}::timestamptz
        AND recorded_at <= ${to.toISOString()}::timestamptz
    )
    SELECT n::text,
           to_char(first AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS first,
           to_char(last AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last,
           ST_AsGeoJSON(CASE WHEN n > ${maxPoints}
             THEN ST_SimplifyPreserveTopology(l, greatest(
               ST_XMax(l) - ST_XMin(l), ST_YMax(l) - ST_YMin(l)) / ${maxPoints})
             ELSE l END, 6) AS geojson
    FROM line`);
  const row = result.rows[0];
  const fixes = Number(row?.n ?? 0);
  const line = row?.geojson ? (JSON.parse(row.geojson) as { coordinates: number[][] }) : null;
  const coordinates = line?.coordinates ?? [];
  const geometry =
    fixes === 0
      ? null
      : fixes === 1
        ? { type: "Point" as const, coordinates: coordinates[0] ?? [] }
        : { type: "LineString" as const, coordinates };
  return {
    type: "Feature",
    geometry,
    properties: {
      courier_id: courierId,
      from: from.toISOString(),
      to: to.toISOString(),
      first_fix_at: row?.first ?? null,
      last_fix_at: row?.last ?? null,
      fixes,
      points: coordinates.length,
      simplified: fixes > maxPoints,
    },
  };
}

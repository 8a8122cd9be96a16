import { type SQL, sql } from "drizzle-orm";
import type { DbHandle } from "../../../src/db/client";
import { type AverageScope, type WeeklyAverage, weeklyAverage } from "../../../src/trips/service";
import { tripRegions } from "../../load/trips";
import { rawWeeklyAverage } from "../../load/trips-verify";
import { drive, type Measured, quantile } from "./drive";

/** One weekly-average question, as the service takes it and as brute-force SQL over the raw rows. */
export interface TripQuery {
  scope: AverageScope;
  range: { from?: string; to?: string };
  where: SQL;
}

/** A kind of question: several of them, asked in turn. */
export interface QueryShape {
  name: string;
  queries: TripQuery[];
}

const KM_PER_DEG = (6371.0088 * Math.PI) / 180;

function box(lat: number, lon: number, halfKm: number): TripQuery {
  const dLat = halfKm / KM_PER_DEG;
  const dLon = halfKm / (KM_PER_DEG * Math.cos((lat * Math.PI) / 180));
  const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
  const [minLon, minLat, maxLon, maxLat] = [r6(lon - dLon), r6(lat - dLat), r6(lon + dLon), r6(lat + dLat)];
  return {
    scope: { bbox: { minLon, minLat, maxLon, maxLat } },
    range: {},
    where: sql`origin_lon BETWEEN ${minLon} AND ${maxLon} AND origin_lat BETWEEN ${minLat} AND ${maxLat}`,
  };
}

/**
 * The questions asked at every size: a region over all its weeks and over a quarter, and boxes of
 * 10 × 10 km and 3 × 3 km around each region's centre (origins are densest there, so the 3 km box's
 * edge cells hold the most raw rows a box can make the service read).
 */
export function queryShapes(regions: string[]): QueryShape[] {
  const centre = (r: string) => tripRegions[r] as { lat: number; lon: number };
  return [
    {
      name: "region, all weeks",
      queries: regions.map((r) => ({ scope: { region: r }, range: {}, where: sql`region = ${r}` })),
    },
    {
      name: "region, one quarter",
      queries: regions.map((r) => ({
        scope: { region: r },
        range: { from: "2019-04-01", to: "2019-06-30" },
        where: sql`region = ${r}`,
      })),
    },
    { name: "box 10 × 10 km", queries: regions.map((r) => box(centre(r).lat, centre(r).lon, 5)) },
    { name: "box 3 × 3 km", queries: regions.map((r) => box(centre(r).lat, centre(r).lon - 0.01, 1.5)) },
  ];
}

/** One shape measured both ways at one size. */
export interface ShapeResult {
  shape: string;
  rollup: Measured;
  raw: Measured;
  /** Raw answers compared with the service's for the same question, and how many differed. */
  compared: number;
  mismatches: string[];
  /** Matching trips of the first question, for scale. */
  trips: number;
}

const same = (a: WeeklyAverage, b: { trips: number; weeks: number; weekly_average: number }) =>
  a.trips === b.trips && a.weeks === b.weeks && Math.abs(a.weekly_average - b.weekly_average) < 1e-9;

/**
 * Times a shape from the rollups (the service the route calls, one query in flight, up to
 * `rollupOps` or `rollupSeconds`) and by brute force over the raw table (exactly `rawOps`
 * queries, one at a time: a count, not a time, bounds the slow side), and checks each raw answer
 * against the service's.
 */
export async function measureShape(
  db: DbHandle,
  shape: QueryShape,
  resolution: number,
  opts: { rollupOps: number; rollupSeconds: number; rawOps: number },
): Promise<ShapeResult> {
  const q = (i: number) => shape.queries[i % shape.queries.length] as TripQuery;
  const rollup = await drive((i) => weeklyAverage(db.db, q(i).scope, q(i).range, resolution), {
    concurrency: 1,
    warmUp: shape.queries.length * 2,
    maxOps: opts.rollupOps,
    maxSeconds: opts.rollupSeconds,
  });
  const latencies: number[] = [];
  const mismatches: string[] = [];
  let trips = 0;
  const t0 = performance.now();
  for (let i = 0; i < opts.rawOps; i++) {
    const query = q(i);
    const start = performance.now();
    const raw = await rawWeeklyAverage(db.db, query.where, query.range.from, query.range.to);
    latencies.push(performance.now() - start);
    const served = await weeklyAverage(db.db, query.scope, query.range, resolution);
    if (i === 0) trips = raw.trips;
    if (!same(served, raw)) {
      mismatches.push(
        `${JSON.stringify(query.scope)}: service ${JSON.stringify(served)}, raw ${JSON.stringify(raw)}`,
      );
    }
  }
  const rawSeconds = (performance.now() - t0) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  const rawTotal = latencies.reduce((a, b) => a + b, 0) / 1000;
  return {
    shape: shape.name,
    rollup,
    raw: {
      queries: latencies.length,
      seconds: rawSeconds,
      qps: latencies.length / rawTotal,
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
    },
    compared: opts.rawOps,
    mismatches,
    trips,
  };
}

/** On-disk sizes (bytes) and row counts of the trip tables. */
export interface TripSizes {
  trips: number;
  /** Heap of all partitions (with TOAST). */
  tripsHeap: number;
  /** Each index of `trips`, summed over its partitions. */
  tripsIndexes: Record<string, number>;
  rollups: Record<string, { rows: number; bytes: number }>;
}

/** Sizes from `pg_partition_tree` and `pg_total_relation_size`, after the load's ANALYZE. */
export async function tripSizes(db: DbHandle): Promise<TripSizes> {
  const one = async <T extends Record<string, unknown>>(query: SQL) =>
    (await db.db.execute<T>(query)).rows[0] as T;
  const heap = await one<{ heap: string; rows: string }>(sql`
    SELECT sum(pg_table_size(relid))::text AS heap, (SELECT count(*) FROM trips)::text AS rows
    FROM pg_partition_tree('trips')`);
  const indexes: Record<string, number> = {};
  for (const name of ["trips_pkey", "trips_region_week_idx", "trips_origin_cell_week_idx"]) {
    const r = await one<{ bytes: string }>(
      sql`SELECT sum(pg_relation_size(relid))::text AS bytes FROM pg_partition_tree(${name}::regclass)`,
    );
    indexes[name] = Number(r.bytes);
  }
  const rollups: TripSizes["rollups"] = {};
  for (const table of ["trip_region_weeks", "trip_cell_weeks", "trip_groups"]) {
    const r = await one<{ rows: string; bytes: string }>(
      sql`SELECT (SELECT count(*) FROM ${sql.identifier(table)})::text AS rows,
                 pg_total_relation_size(${table}::regclass)::text AS bytes`,
    );
    rollups[table] = { rows: Number(r.rows), bytes: Number(r.bytes) };
  }
  return { trips: Number(heap.rows), tripsHeap: Number(heap.heap), tripsIndexes: indexes, rollups };
}

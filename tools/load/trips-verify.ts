import { sql } from "drizzle-orm";
import type { Db } from "../../src/db/client";

/** Rollup rows that disagree with a brute-force GROUP BY over the raw trips, by rollup. */
export interface RollupMismatches {
  regionWeeks: number;
  cellWeeks: number;
  groups: number;
}

/**
 * Compares every rollup with the same aggregate computed over the whole `trips` table, in one
 * statement (one snapshot): a row missing on either side or with another count is a mismatch;
 * group coordinate sums must agree to 1e-6 degrees per trip. Scans everything: for checks, not for
 * serving.
 */
export async function rollupMismatches(db: Db): Promise<RollupMismatches> {
  const result = await db.execute<{ region_weeks: string; cell_weeks: string; groups: string }>(sql`
    WITH rw AS (SELECT region, week_start, count(*) AS n FROM trips GROUP BY 1, 2),
    cw AS (SELECT origin_cell, week_start, count(*) AS n FROM trips GROUP BY 1, 2),
    g AS (SELECT region, origin_cell, dest_cell, time_bucket, count(*) AS n, sum(origin_lat) AS olat,
                 sum(origin_lon) AS olon, sum(dest_lat) AS dlat, sum(dest_lon) AS dlon
          FROM trips GROUP BY 1, 2, 3, 4)
    SELECT
      (SELECT count(*) FROM rw FULL JOIN trip_region_weeks t USING (region, week_start)
        WHERE rw.n IS DISTINCT FROM t.trips)::text AS region_weeks,
      (SELECT count(*) FROM cw FULL JOIN trip_cell_weeks t USING (origin_cell, week_start)
        WHERE cw.n IS DISTINCT FROM t.trips)::text AS cell_weeks,
      (SELECT count(*) FROM g FULL JOIN trip_groups t USING (region, origin_cell, dest_cell, time_bucket)
        WHERE g.n IS DISTINCT FROM t.trips OR abs(g.olat - t.sum_origin_lat) > 1e-6 * g.n
           OR abs(g.olon - t.sum_origin_lon) > 1e-6 * g.n OR abs(g.dlat - t.sum_dest_lat) > 1e-6 * g.n
           OR abs(g.dlon - t.sum_dest_lon) > 1e-6 * g.n)::text AS groups`);
  const row = result.rows[0];
  return {
    regionWeeks: Number(row?.region_weeks),
    cellWeeks: Number(row?.cell_weeks),
    groups: Number(row?.groups),
  };
}

/** A weekly-average answer as the API gives it, from a brute-force count over the raw trips. */
export interface RawAverage {
  trips: number;
  weeks: number;
  weekly_average: number;
}

/**
 * The weekly average computed the slow, obvious way: count the raw trips matching `where` (in the
 * weeks of `from` to `to` when given) and the ISO weeks from the first to the last (or of the
 * range). What the rollup answers must equal.
 */
export async function rawWeeklyAverage(
  db: Db,
  where: ReturnType<typeof sql>,
  from?: string,
  to?: string,
): Promise<RawAverage> {
  const f = from ?? null;
  const t = to ?? null;
  const result = await db.execute<{ n: string; weeks: string | null }>(sql`
    WITH m AS (SELECT date_trunc('week', started_at)::date AS w FROM trips WHERE ${where}
               AND (${f}::date IS NULL OR started_at >= date_trunc('week', ${f}::date))
               AND (${t}::date IS NULL OR started_at < date_trunc('week', ${t}::date) + interval '7 days'))
    SELECT count(*)::text AS n,
           ((coalesce(date_trunc('week', ${t}::date)::date, max(w)) - coalesce(date_trunc('week', ${f}::date)::date, min(w))) / 7 + 1)::text AS weeks
    FROM m`);
  const row = result.rows[0];
  const trips = Number(row?.n ?? 0);
  const weeks = trips === 0 && !from ? 0 : Number(row?.weeks ?? 0);
  return { trips, weeks, weekly_average: weeks > 0 ? trips / weeks : 0 };
}

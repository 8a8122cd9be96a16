import { sql } from "drizzle-orm";
import type { Db } from "../db/client";

/**
 * A keyset position of the sync: a transaction id (`xid8` as text) and a profile id. Reading starts
 * after it, or at it when `inclusive` (a position "everything below this transaction", where an
 * empty id, a TRUNCATE marker's, must not be skipped).
 */
export interface SyncCursor {
  xid: string;
  id: string;
  inclusive?: boolean;
}

/**
 * A profile the sync must bring the index in line with, as it stands in Postgres now: live with
 * its position, or gone (tombstoned or deleted). `truncated` is a TRUNCATE marker (no profile).
 */
export interface SyncRow {
  xid: string;
  id: string;
  live: boolean;
  lat: number;
  lon: number;
  truncated: boolean;
}

interface RawSyncRow extends Record<string, unknown> {
  xid: string;
  id: string;
  live: boolean;
  lat: number | null;
  lon: number | null;
  truncated: boolean;
}

const toRow = (r: RawSyncRow): SyncRow => ({
  xid: r.xid,
  id: r.id,
  live: r.live,
  lat: Number(r.lat ?? 0),
  lon: Number(r.lon ?? 0),
  truncated: r.truncated,
});

/**
 * The sync's horizon: the oldest transaction still running (the snapshot's xmin). Every transaction
 * below it has ended, so no row below it can still appear; with the database's clock.
 */
export async function syncHorizon(db: Db): Promise<{ horizon: string; now: string }> {
  const result = await db.execute<{ horizon: string; now: string }>(
    sql`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon, now()::text AS now`,
  );
  const row = result.rows[0];
  if (!row) throw new Error("no horizon from Postgres");
  return row;
}

/**
 * Profiles written and profiles deleted with SQL after `after` and before `before` (exclusive), in
 * (xid, id) order (newest first when `newestFirst`), each as it stands now. A deleted id that has
 * come back is reported live, so applying rows in any order ends with the index matching the table.
 */
export async function changesBetween(
  db: Db,
  after: SyncCursor,
  before: SyncCursor,
  limit: number,
  newestFirst = false,
): Promise<SyncRow[]> {
  const from = after.inclusive ? sql`>=` : sql`>`;
  const order = newestFirst ? sql`DESC` : sql`ASC`;
  const result = await db.execute<RawSyncRow>(sql`
    SELECT xid::text AS xid, id, live, lat, lon, truncated FROM (
      (SELECT p.change_xid AS xid, p.id, p.deleted_at IS NULL AS live,
              ST_Y(p.location::geometry) AS lat, ST_X(p.location::geometry) AS lon, false AS truncated
       FROM profiles p
       WHERE (p.change_xid, p.id) ${from} (${after.xid}::xid8, ${after.id})
         AND (p.change_xid, p.id) < (${before.xid}::xid8, ${before.id})
       ORDER BY p.change_xid ${order}, p.id ${order} LIMIT ${limit})
      UNION ALL
      (SELECT d.change_xid, d.id, p.id IS NOT NULL AND p.deleted_at IS NULL,
              ST_Y(p.location::geometry), ST_X(p.location::geometry), d.truncated
       FROM profile_deletions d LEFT JOIN profiles p ON p.id = d.id
       WHERE (d.change_xid, d.id) ${from} (${after.xid}::xid8, ${after.id})
         AND (d.change_xid, d.id) < (${before.xid}::xid8, ${before.id})
       ORDER BY d.change_xid ${order}, d.id ${order} LIMIT ${limit})
    ) u ORDER BY u.xid ${order}, u.id ${order} LIMIT ${limit}`);
  return result.rows.map(toRow);
}

/**
 * Changes already visible from transactions at or above the horizon (they committed while an older
 * one still runs): applied every run until the horizon passes them, so one long transaction does
 * not hold back everything committed after it.
 */
export function changesAtOrAbove(db: Db, horizon: string, limit: number): Promise<SyncRow[]> {
  return changesBetween(db, { xid: horizon, id: "", inclusive: true }, { xid: MAX_XID8, id: "" }, limit);
}

/** The largest `xid8`: an upper bound that excludes nothing. */
const MAX_XID8 = "18446744073709551615";

/**
 * Profiles changed or deleted within the last `windowMs` by the database's clock, newest first:
 * what a sync that has lost its state (Redis restarted empty) applies before anything else.
 */
export async function recentChanges(
  db: Db,
  windowMs: number,
  before: { at: string; id: string } | undefined,
  limit: number,
): Promise<(SyncRow & { at: string })[]> {
  const at = before?.at ?? "infinity";
  const id = before?.id ?? "";
  const result = await db.execute<RawSyncRow & { at: string }>(sql`
    SELECT at, xid::text AS xid, id, live, lat, lon, truncated FROM (
      (SELECT p.updated_at AS at, p.change_xid AS xid, p.id, p.deleted_at IS NULL AS live,
              ST_Y(p.location::geometry) AS lat, ST_X(p.location::geometry) AS lon, false AS truncated
       FROM profiles p
       WHERE p.updated_at > now() - make_interval(secs => ${windowMs / 1000})
         AND (p.updated_at, p.id) < (${at}::timestamptz, ${id})
       ORDER BY p.updated_at DESC, p.id DESC LIMIT ${limit})
      UNION ALL
      (SELECT d.deleted_at, d.change_xid, d.id, p.id IS NOT NULL AND p.deleted_at IS NULL,
              ST_Y(p.location::geometry), ST_X(p.location::geometry), d.truncated
       FROM profile_deletions d LEFT JOIN profiles p ON p.id = d.id
       WHERE d.deleted_at > now() - make_interval(secs => ${windowMs / 1000})
         AND (d.deleted_at, d.id) < (${at}::timestamptz, ${id})
       ORDER BY d.deleted_at DESC, d.id DESC LIMIT ${limit})
    ) u ORDER BY u.at DESC, u.id DESC LIMIT ${limit}`);
  return result.rows.map((r) => ({ ...toRow(r), at: String(r.at) }));
}

/** Forgets SQL deletions older than `days`: a sync further behind than that rebuilds instead. */
export async function pruneDeletions(db: Db, days: number): Promise<void> {
  await db.execute(
    sql`DELETE FROM profile_deletions WHERE deleted_at < now() - make_interval(days => ${days})`,
  );
}

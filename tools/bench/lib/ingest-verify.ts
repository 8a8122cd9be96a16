import type { Pool } from "@neondatabase/serverless";
import { redisKeys } from "../../../src/redis/keys";
import { liveStateSets } from "../../../src/tracking/live";
import type { RespClient } from "../../stack/resp";
import { inFlight, type JsonClient, pollUntil } from "./http-json";
import { fixKey } from "./ingest-http";

/** What Postgres holds for one run's couriers, against what the API accepted. */
export interface Landed {
  rows: number;
  distinct: number;
  /** Accepted fixes not in Postgres. */
  missing: number;
  /** The same, by courier. */
  missingByCourier: Map<string, number>;
  /** Rows in Postgres that no accepted fix explains. */
  unexpected: number;
  /** INSERT statements that wrote them (distinct `received_at`: now() is per transaction). */
  statements: number;
  /** Epoch ms of the last row's insert. */
  lastInsertAt: number;
}

/** Rows of the run's couriers: `LIKE` with a prefix free of `_` and `%`. */
const RUN_ROWS = "FROM courier_positions WHERE courier_id LIKE $1 || '%'";

/** How long the row count may stand still before the couriers' objects are asked what they still hold. */
const IDLE_MS = 15_000;

/**
 * Polls until the run's couriers have `expected` rows in Postgres, the deadline passes, or the count
 * has stood still for a while and `nothingPending` says no object holds a fix any more (so nothing
 * else will land). Returns the epoch ms of the last insert once all are in, undefined otherwise.
 */
export async function waitLanded(
  pool: Pool,
  prefix: string,
  expected: number,
  deadlineMs: number,
  progress: (rows: number) => void,
  nothingPending: () => Promise<boolean>,
): Promise<number | undefined> {
  let last = -1;
  let since = Date.now();
  let done = false;
  const landed = await pollUntil(
    async () => {
      if (done) return Number.NaN;
      const { rows } = await pool.query<{ n: string; last: string | null }>(
        `SELECT count(*) AS n, (extract(epoch FROM max(received_at)) * 1000)::float8 AS last ${RUN_ROWS}`,
        [prefix],
      );
      const n = Number(rows[0]?.n ?? 0);
      progress(n);
      if (n >= expected) return Number(rows[0]?.last);
      if (n !== last) {
        last = n;
        since = Date.now();
      } else if (Date.now() - since > IDLE_MS) {
        since = Date.now();
        if (await nothingPending()) done = true;
      }
      return undefined;
    },
    deadlineMs,
    500,
  );
  return landed === undefined || Number.isNaN(landed) ? undefined : landed;
}

/**
 * Fixes each courier's object still buffers (`pending_fixes` of `GET /v1/couriers/:id`), for the
 * given couriers; -1 where the request failed.
 */
export async function pendingFixes(client: JsonClient, courierIds: string[]): Promise<Map<string, number>> {
  const pending = new Map<string, number>();
  await inFlight(courierIds, 8, async (id) => {
    try {
      const answer = await client.request("GET", `/v1/couriers/${encodeURIComponent(id)}`);
      pending.set(id, answer.status === 200 ? Number(JSON.parse(answer.body).pending_fixes) : -1);
    } catch {
      pending.set(id, -1);
    }
  });
  return pending;
}

/** Compares the run's rows in Postgres, one by one, with the accepted fixes. */
export async function verifyLanded(pool: Pool, prefix: string, expected: Set<string>): Promise<Landed> {
  const { rows: agg } = await pool.query<{ n: string; d: string; s: string; last: string | null }>(
    `SELECT count(*) AS n, count(DISTINCT (courier_id, recorded_at)) AS d, count(DISTINCT received_at) AS s,
            (extract(epoch FROM max(received_at)) * 1000)::float8 AS last ${RUN_ROWS}`,
    [prefix],
  );
  const { rows } = await pool.query<{ c: string; ms: string }>(
    `SELECT courier_id AS c, (extract(epoch FROM recorded_at) * 1000)::bigint AS ms ${RUN_ROWS}`,
    [prefix],
  );
  const seen = new Set<string>();
  let unexpected = 0;
  for (const r of rows) {
    const key = fixKey(r.c, Number(r.ms));
    if (!expected.has(key)) unexpected++;
    seen.add(key);
  }
  let missing = 0;
  const missingByCourier = new Map<string, number>();
  for (const key of expected) {
    if (seen.has(key)) continue;
    missing++;
    const courier = key.slice(0, key.indexOf("\t"));
    missingByCourier.set(courier, (missingByCourier.get(courier) ?? 0) + 1);
  }
  return {
    rows: Number(agg[0]?.n ?? 0),
    distinct: Number(agg[0]?.d ?? 0),
    missing,
    missingByCourier,
    unexpected,
    statements: Number(agg[0]?.s ?? 0),
    lastInsertAt: Number(agg[0]?.last ?? 0),
  };
}

/**
 * Couriers whose live state in Redis ends at their newest accepted fix. The publish follows the
 * INSERT in the same flush, so this polls for a few seconds after the rows are in.
 */
export async function liveStatesMatching(
  redis: RespClient,
  newest: Map<string, number>,
  waitMs: number,
): Promise<number> {
  const ids = [...newest.keys()];
  const count = async () => {
    const replies = await redis.sendMany(ids.map((id) => ["HGET", redisKeys.courierState(id), "recordedAt"]));
    return replies.filter(
      (r, i) => Buffer.isBuffer(r) && Number(r.toString()) === newest.get(ids[i] as string),
    ).length;
  };
  const all = await pollUntil(
    async () => ((await count()) === ids.length ? ids.length : undefined),
    Date.now() + waitMs,
  );
  return all ?? count();
}

/** Deletes the run's rows from Postgres and its couriers from the live index in Redis. */
export async function removeRun(
  pool: Pool,
  redis: RespClient,
  prefixes: string[],
  courierIds: string[],
): Promise<number> {
  let deleted = 0;
  for (const prefix of prefixes) {
    deleted += (await pool.query(`DELETE ${RUN_ROWS}`, [prefix])).rowCount ?? 0;
  }
  for (let i = 0; i < courierIds.length; i += 500) {
    const ids = courierIds.slice(i, i + 500);
    await redis.sendMany([
      ["ZREM", redisKeys.liveCouriers(), ...ids],
      ...liveStateSets.map((s) => ["ZREM", redisKeys.liveCouriersInState(s), ...ids]),
      ["ZREM", redisKeys.courierLastSeen(), ...ids],
      ["DEL", ...ids.map((id) => redisKeys.courierState(id))],
    ]);
  }
  return deleted;
}

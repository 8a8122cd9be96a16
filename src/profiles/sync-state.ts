import type { Db } from "../db/client";
import type { Logger } from "../log";
import type { Redis } from "../redis/client";
import { redisKeys } from "../redis/keys";

/** Rows per Postgres page and per Redis pipeline. */
export const SYNC_BATCH = 5000;
/** Pages per run: keeps one run well inside a Worker's CPU time and subrequest limits. */
export const SYNC_BUDGET = 20;
/** How often the cron runs the sync (`*\/5 * * * *` in wrangler.toml). */
export const SYNC_PERIOD_MS = 5 * 60_000;
/**
 * A sync that finds no state of its own (Redis restarted empty) first applies what changed this
 * recently, then rebuilds the rest: changes since its last run before the loss are in the window.
 */
export const RECENT_WINDOW_MS = 3 * SYNC_PERIOD_MS;
/** SQL deletions are kept this long; a sync that last caught up earlier than that rebuilds. */
export const DELETION_RETENTION_DAYS = 7;
/** The state format; a state of another (or none) starts the sync afresh with a rebuild. */
export const SYNC_STATE_VERSION = "2";

/** How long the lock outlives a run that died holding it: well inside one period. */
export const LOCK_TTL_MS = 120_000;
const RELEASE_LUA =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
const RENEW_LUA =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";

/** The sync's state as kept in Redis beside the index it describes (a flushed Redis loses both). */
export interface SyncState {
  version?: string;
  /** Keyset position: every change below it is in the index (but for a backlog or a rebuild). */
  cursor_xid?: string;
  cursor_id?: string;
  /** "1" when the position means "everything below this transaction" (reading starts at it). */
  cursor_inclusive?: string;
  /** The database's time when the position last reached the horizon: the watermark. */
  caught_up_at?: string;
  /**
   * A range of changes too many for one run, worked through after the fresh ones: from the
   * position `backlog_xid`/`backlog_id` (at it when `backlog_inclusive`) up to, not including,
   * `backlog_until_xid`/`backlog_until_id`.
   */
  backlog_xid?: string;
  backlog_id?: string;
  backlog_inclusive?: string;
  backlog_until_xid?: string;
  backlog_until_id?: string;
  backlog_applied?: string;
  last_run_at?: string;
  last_applied?: string;
  last_error?: string;
  last_error_at?: string;
  rebuild_id?: string;
  /** "1" when the rebuild writes into the live key (there was none to keep answering). */
  rebuild_in_place?: string;
  rebuild_after_id?: string;
  rebuild_started_at?: string;
  rebuild_count?: string;
  last_rebuild_at?: string;
  last_rebuild_count?: string;
}

export type StateFields = Partial<Record<keyof SyncState, string | number>>;

/** The state fields of a backlog. */
export const BACKLOG_FIELDS: (keyof SyncState)[] = [
  "backlog_xid",
  "backlog_id",
  "backlog_inclusive",
  "backlog_until_xid",
  "backlog_until_id",
  "backlog_applied",
];

/** The Redis keys the sync works on; tests give their own so a rebuild cannot disturb other tests. */
export interface SyncKeys {
  index: string;
  build: (id: string) => string;
  state: string;
  lock: string;
}

const defaultKeys: SyncKeys = {
  index: redisKeys.profiles(),
  build: redisKeys.profilesBuild,
  state: redisKeys.profileSync(),
  lock: redisKeys.profileSyncLock(),
};

/** The sync's dependencies. */
export interface SyncDeps {
  db: Db;
  redis: Redis;
  log: Logger;
  now?: () => number;
  keys?: SyncKeys;
  /** Rows per page (default {@link SYNC_BATCH}). */
  batch?: number;
}

/** The sync keys of the GEO index `index`: the live index's own, or ones named after it. */
export function syncKeysFor(index: string): SyncKeys {
  if (index === defaultKeys.index) return defaultKeys;
  return {
    index,
    build: (id) => redisKeys.indexBuild(index, id),
    state: redisKeys.indexSync(index),
    lock: redisKeys.indexSyncLock(index),
  };
}

/** The keys of `deps`, or the live index's. */
export const keysOf = (deps: Pick<SyncDeps, "keys">) => deps.keys ?? defaultKeys;

/** Reads the sync's state. */
export async function readState(deps: Pick<SyncDeps, "redis" | "keys">): Promise<SyncState> {
  const raw = (await deps.redis.hgetall<Record<string, unknown>>(keysOf(deps).state)) ?? {};
  // Values come back JSON-parsed ("1" as 1); String() restores what was stored.
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)])) as SyncState;
}

/** Epoch ms of a Postgres `timestamptz` text (`2026-12-04 18:41:31.11+00`). */
export function pgTime(text: string): number {
  return Date.parse(text.replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00"));
}

/** The state a sync starts from when everything below `horizon` is in the index. */
export function caughtUpState(horizon: string, now: string): StateFields {
  return {
    version: SYNC_STATE_VERSION,
    cursor_xid: horizon,
    cursor_id: "",
    cursor_inclusive: "1",
    caught_up_at: now,
  };
}

/** Takes the sync's lock (held by one run, or one bulk load, at a time): its token, or undefined. */
export async function takeSyncLock(deps: Pick<SyncDeps, "redis" | "keys">): Promise<string | undefined> {
  const token = crypto.randomUUID();
  const locked = await deps.redis.set(keysOf(deps).lock, token, { nx: true, px: LOCK_TTL_MS });
  return locked === "OK" ? token : undefined;
}

/** Keeps a lock taken with {@link takeSyncLock} for another {@link LOCK_TTL_MS}; false if it was lost. */
export async function renewSyncLock(deps: Pick<SyncDeps, "redis" | "keys">, token: string): Promise<boolean> {
  return (await deps.redis.eval(RENEW_LUA, [keysOf(deps).lock], [token, LOCK_TTL_MS])) === 1;
}

/** Gives the lock back (only if still ours). */
export async function releaseSyncLock(deps: Pick<SyncDeps, "redis" | "keys">, token: string): Promise<void> {
  await deps.redis.eval(RELEASE_LUA, [keysOf(deps).lock], [token]);
}

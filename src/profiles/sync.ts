import type { Db } from "../db/client";
import { type Logger, rootMessage } from "../log";
import type { Redis } from "../redis/client";
import { redisKeys } from "../redis/keys";
import { changesAfter, databaseNow, livePage, profileCounts } from "./repo";

/** Rows per Postgres page and per Redis pipeline. */
export const SYNC_BATCH = 5000;
/** Pages per run: keeps one run well inside a Worker's CPU time and subrequest limits. */
export const SYNC_BUDGET = 20;
/**
 * Each run re-reads this much before its watermark. Rows carry `updated_at = now()` of their
 * transaction, so a transaction that commits late can appear behind a watermark already passed;
 * re-applying a window is harmless because GEOADD and ZREM are idempotent.
 */
export const SYNC_OVERLAP_MS = 30_000;

const LOCK_TTL_MS = 120_000;
const RELEASE_LUA =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/** The sync's state as kept in Redis beside the index it describes (a flushed Redis restarts it from zero). */
interface SyncState {
  cursor_at?: string;
  cursor_id?: string;
  /** "1" while a backlog is being worked through: the next run continues exactly at the cursor. */
  resume?: string;
  last_run_at?: string;
  last_applied?: string;
  last_error?: string;
  last_error_at?: string;
  rebuild_id?: string;
  rebuild_after_id?: string;
  rebuild_started_at?: string;
  rebuild_count?: string;
  last_rebuild_at?: string;
  last_rebuild_count?: string;
}

/** What one sync run did. */
export interface SyncRunResult {
  skipped?: "locked";
  applied: number;
  removed: number;
  rebuilt?: { indexed: number; done: boolean };
  more: boolean;
  error?: string;
}

/** The sync's report for `GET /v1/admin/sync/profiles`. */
export interface SyncStatus {
  watermark: string | null;
  lag_ms: number | null;
  last_run_at: string | null;
  last_applied: number;
  last_error: { message: string; at: string } | null;
  counts: { postgres_live: number; postgres_tombstoned: number; redis_indexed: number };
  rebuild: { running: boolean; indexed: number; started_at: string | null; last_finished_at: string | null };
}

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

const keysOf = (deps: Pick<SyncDeps, "keys">) => deps.keys ?? defaultKeys;

async function readState(deps: Pick<SyncDeps, "redis" | "keys">): Promise<SyncState> {
  const raw = (await deps.redis.hgetall<Record<string, unknown>>(keysOf(deps).state)) ?? {};
  // Values come back JSON-parsed ("1" as 1); String() restores what was stored.
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)])) as SyncState;
}

async function writeState(
  deps: Pick<SyncDeps, "redis" | "keys">,
  fields: Partial<Record<keyof SyncState, string | number>>,
): Promise<void> {
  await deps.redis.hset(keysOf(deps).state, fields);
}

/**
 * Asks for a full rebuild: the next runs copy every live profile into a fresh key and rename it over
 * the live index when complete, so queries never see an empty or half-built index.
 */
export async function requestRebuild(deps: SyncDeps): Promise<void> {
  const id = crypto.randomUUID();
  const startedAt = await databaseNow(deps.db);
  const keys = keysOf(deps);
  const old = (await readState(deps)).rebuild_id;
  const p = deps.redis.pipeline();
  if (old) p.del(keys.build(old));
  p.hset(keys.state, {
    rebuild_id: id,
    rebuild_after_id: "",
    rebuild_started_at: startedAt,
    rebuild_count: 0,
  });
  await p.exec();
}

/** Continues a rebuild for up to `budget` pages; swaps the index in when the last page is done. */
async function continueRebuild(deps: SyncDeps, state: SyncState, budget: number) {
  const keys = keysOf(deps);
  const batch = deps.batch ?? SYNC_BATCH;
  const id = state.rebuild_id as string;
  const buildKey = keys.build(id);
  let afterId = state.rebuild_after_id ?? "";
  let count = Number(state.rebuild_count ?? 0);
  let pages = 0;
  while (pages < budget) {
    const page = await livePage(deps.db, afterId, batch);
    pages++;
    if (page.length > 0) {
      const [first, ...rest] = page.map((r) => ({ longitude: r.lon, latitude: r.lat, member: r.id }));
      if (first) await deps.redis.geoadd(buildKey, first, ...rest);
      afterId = page[page.length - 1]?.id ?? afterId;
      count += page.length;
      await writeState(deps, { rebuild_after_id: afterId, rebuild_count: count });
    }
    if (page.length < batch) {
      // RENAME is atomic: readers see the old index until this instant, then the complete new one.
      const p = deps.redis.multi();
      if (count > 0) p.rename(buildKey, keys.index);
      else p.del(keys.index);
      p.hdel(keys.state, "rebuild_id", "rebuild_after_id", "rebuild_count", "rebuild_started_at");
      // Changes made while the copy ran may be missing from it: replay everything since it started.
      p.hset(keys.state, {
        cursor_at: state.rebuild_started_at ?? "epoch",
        cursor_id: "",
        resume: "0",
        last_rebuild_at: new Date((deps.now ?? Date.now)()).toISOString(),
        last_rebuild_count: count,
      });
      await p.exec();
      deps.log.info("profile index rebuilt", { indexed: count });
      return { pages, indexed: count, done: true };
    }
  }
  return { pages, indexed: count, done: false };
}

/** Applies profile changes since the watermark, page by page, within `budget` pages. */
async function applyChanges(deps: SyncDeps, state: SyncState, budget: number) {
  const keys = keysOf(deps);
  const batch = deps.batch ?? SYNC_BATCH;
  let cursorAt = state.cursor_at ?? "epoch";
  let cursorId = state.cursor_id ?? "";
  // Re-read the overlap only after a run that caught up: a run that ran out of budget resumes exactly
  // where it stopped, or a window holding more rows than the budget would be re-read forever.
  let overlap = state.cursor_at && state.resume !== "1" ? SYNC_OVERLAP_MS : 0;
  let applied = 0;
  let removed = 0;
  for (let pages = 0; pages < budget; pages++) {
    const rows = await changesAfter(deps.db, cursorAt, overlap ? "" : cursorId, batch, overlap);
    overlap = 0;
    if (rows.length === 0) {
      if (state.resume === "1") await writeState(deps, { resume: "0" });
      return { applied, removed, more: false };
    }
    const live = rows
      .filter((r) => !r.deleted)
      .map((r) => ({ longitude: r.lon, latitude: r.lat, member: r.id }));
    const gone = rows.filter((r) => r.deleted).map((r) => r.id);
    const p = deps.redis.pipeline();
    const [first, ...rest] = live;
    if (first) p.geoadd(keys.index, first, ...rest);
    if (gone.length > 0) p.zrem(keys.index, ...gone);
    const last = rows[rows.length - 1];
    cursorAt = last?.cursor ?? cursorAt;
    cursorId = last?.id ?? cursorId;
    const more = rows.length === batch;
    p.hset(keys.state, { cursor_at: cursorAt, cursor_id: cursorId, resume: more ? "1" : "0" });
    await p.exec();
    applied += live.length;
    removed += gone.length;
    if (!more) return { applied, removed, more: false };
  }
  return { applied, removed, more: true };
}

/**
 * One sync run: a pending full rebuild first, then incremental changes, within one budget of pages.
 * Runs never overlap (a Redis lock); an error is recorded in the status and ends the run, and the
 * next run resumes from the last page that completed.
 */
export async function runProfileSync(deps: SyncDeps, budget = SYNC_BUDGET): Promise<SyncRunResult> {
  const token = crypto.randomUUID();
  const keys = keysOf(deps);
  const locked = await deps.redis.set(keys.lock, token, { nx: true, px: LOCK_TTL_MS });
  if (locked !== "OK") return { skipped: "locked", applied: 0, removed: 0, more: true };
  const now = deps.now ?? Date.now;
  try {
    let state = await readState(deps);
    let left = budget;
    let rebuilt: SyncRunResult["rebuilt"];
    if (state.rebuild_id) {
      const r = await continueRebuild(deps, state, left);
      left -= r.pages;
      rebuilt = { indexed: r.indexed, done: r.done };
      state = await readState(deps);
    }
    const changes = left > 0 ? await applyChanges(deps, state, left) : { applied: 0, removed: 0, more: true };
    await writeState(deps, {
      last_run_at: new Date(now()).toISOString(),
      last_applied: changes.applied + changes.removed,
    });
    return {
      ...changes,
      ...(rebuilt ? { rebuilt } : {}),
      more: changes.more || (rebuilt ? !rebuilt.done : false),
    };
  } catch (error) {
    const message = rootMessage(error);
    deps.log.error("profile sync failed", { error: message });
    await writeState(deps, { last_error: message, last_error_at: new Date(now()).toISOString() }).catch(
      () => {},
    );
    return { applied: 0, removed: 0, more: true, error: message };
  } finally {
    await deps.redis.eval(RELEASE_LUA, [keys.lock], [token]).catch(() => {});
  }
}

/** Watermark, lag, counts, last error and rebuild progress. */
export async function profileSyncStatus(deps: Pick<SyncDeps, "db" | "redis" | "keys">): Promise<SyncStatus> {
  const [state, counts, indexed] = await Promise.all([
    readState(deps),
    profileCounts(deps.db),
    deps.redis.zcard(keysOf(deps).index),
  ]);
  const watermarkMs = state.cursor_at
    ? Date.parse(state.cursor_at.replace(" ", "T").replace(/\+00$/, "Z"))
    : null;
  return {
    watermark:
      watermarkMs !== null && Number.isFinite(watermarkMs) ? new Date(watermarkMs).toISOString() : null,
    lag_ms:
      counts.newestChangeAt === null
        ? 0
        : watermarkMs === null || !Number.isFinite(watermarkMs)
          ? null
          : Math.max(0, counts.newestChangeAt - watermarkMs),
    last_run_at: state.last_run_at ?? null,
    last_applied: Number(state.last_applied ?? 0),
    last_error: state.last_error ? { message: state.last_error, at: state.last_error_at ?? "" } : null,
    counts: { postgres_live: counts.live, postgres_tombstoned: counts.tombstoned, redis_indexed: indexed },
    rebuild: {
      running: Boolean(state.rebuild_id),
      indexed: Number(state.rebuild_count ?? 0),
      started_at: state.rebuild_started_at ?? null,
      last_finished_at: state.last_rebuild_at ?? null,
    },
  };
}

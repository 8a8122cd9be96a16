import { REDIS_MAX_LAT } from "../tracking/schemas";
import { livePage } from "./repo";
import { changesBetween, type SyncCursor, type SyncRow } from "./sync-repo";
import {
  BACKLOG_FIELDS,
  caughtUpState,
  keysOf,
  type StateFields,
  SYNC_BATCH,
  type SyncDeps,
  type SyncState,
} from "./sync-state";

const indexable = (r: SyncRow) => r.live && Math.abs(r.lat) <= REDIS_MAX_LAT && Math.abs(r.lon) <= 180;

/** Where changes go: the live index, and a rebuild's private copy while one is being built. */
export function targets(deps: Pick<SyncDeps, "keys">, state: SyncState): string[] {
  const keys = keysOf(deps);
  return state.rebuild_id && state.rebuild_in_place !== "1"
    ? [keys.index, keys.build(state.rebuild_id)]
    : [keys.index];
}

/**
 * Brings `keys` in line with `rows` (GEOADD what is live, ZREM what is gone; a profile Redis
 * cannot index, such as one written with SQL beyond ±85.05°, counts as gone) and writes `fields`
 * to the state, in one pipeline. Idempotent, so a page applied twice does no harm.
 */
export async function apply(
  deps: SyncDeps,
  keys: string[],
  rows: SyncRow[],
  fields: StateFields = {},
  clear: (keyof SyncState)[] = [],
): Promise<{ applied: number; removed: number; truncated: boolean }> {
  const live = rows.filter(indexable).map((r) => ({ longitude: r.lon, latitude: r.lat, member: r.id }));
  const gone = rows.filter((r) => !r.truncated && !indexable(r)).map((r) => r.id);
  const p = deps.redis.pipeline();
  let commands = 0;
  const [first, ...rest] = live;
  for (const key of keys) {
    if (first) p.geoadd(key, first, ...rest);
    if (gone.length > 0) p.zrem(key, ...gone);
    commands += (first ? 1 : 0) + (gone.length > 0 ? 1 : 0);
  }
  if (Object.keys(fields).length > 0) {
    p.hset(keysOf(deps).state, fields);
    commands++;
  }
  if (clear.length > 0) {
    p.hdel(keysOf(deps).state, ...clear);
    commands++;
  }
  if (commands > 0) await p.exec();
  return { applied: live.length, removed: gone.length, truncated: rows.some((r) => r.truncated) };
}

interface PassResult {
  pages: number;
  applied: number;
  removed: number;
  truncated: boolean;
  done: boolean;
}

const newPass = (): PassResult => ({ pages: 0, applied: 0, removed: 0, truncated: false, done: false });

function tally(result: PassResult, page: { applied: number; removed: number; truncated: boolean }): void {
  result.applied += page.applied;
  result.removed += page.removed;
  result.truncated ||= page.truncated;
}

/** A position kept in the state as three fields. */
const position = (xid?: string, id?: string, inclusive?: string): SyncCursor => ({
  xid: xid ?? "0",
  id: id ?? "",
  inclusive: inclusive === "1",
});

/**
 * The fresh changes: everything after the cursor and below the horizon, newest first. When they
 * are more than `pages` pages (a bulk load the sync must index itself), the newest are applied
 * and the older rest becomes the backlog, while the cursor moves to the horizon: the next run
 * starts with changes made after this one, and a change made after a burst of others is applied
 * before them. That is what bounds the lag, whatever the backlog holds.
 */
export async function freshPass(
  deps: SyncDeps,
  state: SyncState,
  horizon: string,
  now: string,
  pages: number,
) {
  const batch = deps.batch ?? SYNC_BATCH;
  const keys = targets(deps, state);
  const lower = position(state.cursor_xid, state.cursor_id, state.cursor_inclusive);
  let upper: SyncCursor = { xid: horizon, id: "" };
  const result = newPass();
  while (result.pages < pages && !result.done) {
    const rows = await changesBetween(deps.db, lower, upper, batch, true);
    result.pages++;
    tally(result, await apply(deps, keys, rows));
    const last = rows.at(-1);
    if (last) upper = { xid: last.xid, id: last.id };
    result.done = rows.length < batch;
  }
  if (result.done) {
    await deps.redis.hset(keysOf(deps).state, caughtUpState(horizon, now));
    return result;
  }
  // An older backlog still standing ends where the cursor stood, which is where this one starts:
  // the two become one range.
  const start = state.backlog_until_xid
    ? position(state.backlog_xid, state.backlog_id, state.backlog_inclusive)
    : lower;
  await deps.redis.hset(keysOf(deps).state, {
    ...caughtUpState(horizon, now),
    backlog_xid: start.xid ?? "0",
    backlog_id: start.id ?? "",
    backlog_inclusive: start.inclusive ? "1" : "0",
    backlog_until_xid: upper.xid,
    backlog_until_id: upper.id,
    backlog_applied: Number(state.backlog_applied ?? 0),
  });
  return result;
}

/** Works on the backlog, oldest first, for up to `pages` pages; the backlog is gone once done. */
export async function backlogPass(deps: SyncDeps, state: SyncState, pages: number) {
  const batch = deps.batch ?? SYNC_BATCH;
  const keys = targets(deps, state);
  let lower = position(state.backlog_xid, state.backlog_id, state.backlog_inclusive);
  const upper = position(state.backlog_until_xid, state.backlog_until_id);
  let applied = Number(state.backlog_applied ?? 0);
  const result = newPass();
  while (result.pages < pages && !result.done) {
    const rows = await changesBetween(deps.db, lower, upper, batch);
    result.pages++;
    const last = rows.at(-1);
    if (last) lower = { xid: last.xid, id: last.id };
    result.done = rows.length < batch;
    applied += rows.length;
    tally(
      result,
      result.done
        ? await apply(deps, keys, rows, {}, BACKLOG_FIELDS)
        : await apply(deps, keys, rows, {
            backlog_xid: lower.xid,
            backlog_id: lower.id,
            backlog_inclusive: "0",
            backlog_applied: applied,
          }),
    );
  }
  return result;
}

/**
 * Starts a full rebuild: the next runs copy every live profile into a fresh key and rename it over
 * the live index when complete, so queries never see an empty or half-built index. With no live
 * index to keep answering (Redis lost it), the copy goes straight into the live key instead. A
 * backlog is dropped: the copy reads every profile as it stands.
 */
export async function startRebuild(deps: SyncDeps, state: SyncState, now: string): Promise<void> {
  const keys = keysOf(deps);
  const inPlace = (await deps.redis.exists(keys.index)) === 0;
  const p = deps.redis.pipeline();
  if (state.rebuild_id && state.rebuild_in_place !== "1") p.del(keys.build(state.rebuild_id));
  p.hdel(keys.state, ...BACKLOG_FIELDS);
  p.hset(keys.state, {
    rebuild_id: crypto.randomUUID(),
    rebuild_in_place: inPlace ? "1" : "0",
    rebuild_after_id: "",
    rebuild_started_at: now,
    rebuild_count: 0,
  });
  await p.exec();
}

/** Continues a rebuild for up to `budget` pages; swaps the copy in when the last page is done. */
export async function continueRebuild(deps: SyncDeps, state: SyncState, budget: number) {
  const keys = keysOf(deps);
  const batch = deps.batch ?? SYNC_BATCH;
  const inPlace = state.rebuild_in_place === "1";
  const buildKey = inPlace ? keys.index : keys.build(state.rebuild_id as string);
  let afterId = state.rebuild_after_id ?? "";
  let count = Number(state.rebuild_count ?? 0);
  let pages = 0;
  while (pages < budget) {
    const page = await livePage(deps.db, afterId, batch);
    pages++;
    if (page.length > 0) {
      afterId = page.at(-1)?.id ?? afterId;
      const rows = page.map((r) => ({ ...r, xid: "", live: true, truncated: false }));
      count += rows.filter(indexable).length;
      await apply(deps, [buildKey], rows, { rebuild_after_id: afterId, rebuild_count: count });
    }
    if (page.length < batch) {
      const p = deps.redis.multi();
      // RENAME is atomic: readers see the old index until this instant, then the complete new one.
      if (!inPlace) {
        if (await deps.redis.exists(buildKey)) p.rename(buildKey, keys.index);
        else p.del(keys.index);
      }
      p.hdel(
        keys.state,
        "rebuild_id",
        "rebuild_in_place",
        "rebuild_after_id",
        "rebuild_count",
        "rebuild_started_at",
      );
      p.hset(keys.state, {
        last_rebuild_at: new Date((deps.now ?? Date.now)()).toISOString(),
        last_rebuild_count: count,
      });
      await p.exec();
      deps.log.info("profile index rebuilt", { indexed: count, in_place: inPlace });
      return { pages, indexed: count, done: true };
    }
  }
  return { pages, indexed: count, done: false };
}

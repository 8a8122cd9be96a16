import { rootMessage } from "../log";
import { apply, backlogPass, continueRebuild, freshPass, startRebuild, targets } from "./sync-apply";
import { changesAtOrAbove, pruneDeletions, recentChanges, syncHorizon } from "./sync-repo";
import {
  caughtUpState,
  DELETION_RETENTION_DAYS,
  keysOf,
  pgTime,
  RECENT_WINDOW_MS,
  readState,
  releaseSyncLock,
  SYNC_BATCH,
  SYNC_BUDGET,
  SYNC_STATE_VERSION,
  type SyncDeps,
  type SyncState,
  takeSyncLock,
} from "./sync-state";

/** What one sync run did. */
export interface SyncRunResult {
  skipped?: "locked";
  applied: number;
  removed: number;
  rebuilt?: { indexed: number; done: boolean };
  more: boolean;
  error?: string;
}

/** Asks for a full rebuild (see {@link startRebuild}); the next runs carry it out. */
export async function requestRebuild(deps: SyncDeps): Promise<void> {
  const { now } = await syncHorizon(deps.db);
  await startRebuild(deps, await readState(deps), now);
}

/**
 * A sync without a state of its own (first run, Redis restarted empty, an older state format, or
 * too far behind for the deletion log): it starts at the horizon, begins a rebuild for everything
 * before it, and first applies what changed in the last {@link RECENT_WINDOW_MS}, newest first, so
 * recent changes are in the index after this run even while the rebuild takes many.
 */
async function initialise(deps: SyncDeps, old: SyncState, horizon: string, now: string, pages: number) {
  const keys = keysOf(deps);
  const p = deps.redis.pipeline();
  if (old.rebuild_id && old.rebuild_in_place !== "1") p.del(keys.build(old.rebuild_id));
  p.del(keys.state);
  p.hset(keys.state, caughtUpState(horizon, now));
  await p.exec();
  await startRebuild(deps, {}, now);
  const state = await readState(deps);
  const batch = deps.batch ?? SYNC_BATCH;
  const result = { pages: 0, applied: 0, removed: 0 };
  let before: { at: string; id: string } | undefined;
  while (result.pages < pages) {
    const rows = await recentChanges(deps.db, RECENT_WINDOW_MS, before, batch);
    result.pages++;
    const r = await apply(deps, targets(deps, state), rows);
    result.applied += r.applied;
    result.removed += r.removed;
    const last = rows.at(-1);
    if (!last || rows.length < batch) break;
    before = { at: last.at, id: last.id };
  }
  deps.log.info("profile sync started afresh: rebuilding the index", { recent_applied: result.applied });
  return result;
}

/**
 * One sync run, within one budget of pages: fresh changes first (at most half the budget), then
 * changes already committed above the horizon, then the background work (a backlog, then a
 * rebuild). Runs never overlap (a Redis lock); an error is recorded in the status and ends the
 * run, and the next run resumes from the last page that completed.
 */
export async function runProfileSync(deps: SyncDeps, budget = SYNC_BUDGET): Promise<SyncRunResult> {
  const keys = keysOf(deps);
  const token = await takeSyncLock(deps);
  if (!token) return { skipped: "locked", applied: 0, removed: 0, more: true };
  const clock = deps.now ?? Date.now;
  try {
    const { horizon, now } = await syncHorizon(deps.db);
    let state = await readState(deps);
    let left = budget;
    const total = { applied: 0, removed: 0 };
    const add = (r: { applied: number; removed: number }) => {
      total.applied += r.applied;
      total.removed += r.removed;
    };
    const freshPages = Math.max(1, Math.floor(budget / 2));
    const stale =
      !state.caught_up_at || pgTime(now) - pgTime(state.caught_up_at) > DELETION_RETENTION_DAYS * 86_400_000;
    let truncated = false;
    if (state.version !== SYNC_STATE_VERSION || stale) {
      const r = await initialise(deps, state, horizon, now, freshPages);
      left -= r.pages;
      add(r);
    } else {
      const r = await freshPass(deps, state, horizon, now, freshPages);
      left -= r.pages;
      add(r);
      truncated = r.truncated;
    }
    state = await readState(deps);
    const above = await apply(
      deps,
      targets(deps, state),
      await changesAtOrAbove(deps.db, horizon, deps.batch ?? SYNC_BATCH),
    );
    add(above);
    truncated ||= above.truncated;
    if (state.backlog_until_xid && left > 0) {
      const r = await backlogPass(deps, state, left);
      left -= r.pages;
      add(r);
      truncated ||= r.truncated;
    }
    if (truncated) {
      // The table was emptied (TRUNCATE) at some point: only a copy of what it holds now is right.
      await startRebuild(deps, state, now);
    }
    state = await readState(deps);
    let rebuilt: SyncRunResult["rebuilt"];
    if (state.rebuild_id && left > 0) {
      const r = await continueRebuild(deps, state, left);
      left -= r.pages;
      rebuilt = { indexed: r.indexed, done: r.done };
      if (r.done && state.rebuild_in_place !== "1") {
        // A write-through that reached the old live key after the copy last looked is committed by
        // now: once more, so the swapped-in index has it too.
        add(
          await apply(deps, [keys.index], await changesAtOrAbove(deps.db, horizon, deps.batch ?? SYNC_BATCH)),
        );
      }
    }
    await pruneDeletions(deps.db, DELETION_RETENTION_DAYS);
    const after = await readState(deps);
    await deps.redis.hset(keys.state, {
      last_run_at: new Date(clock()).toISOString(),
      last_applied: total.applied + total.removed,
    });
    return {
      ...total,
      ...(rebuilt ? { rebuilt } : {}),
      more: Boolean(after.backlog_until_xid || after.rebuild_id),
    };
  } catch (error) {
    const message = rootMessage(error);
    deps.log.error("profile sync failed", { error: message });
    await deps.redis
      .hset(keys.state, { last_error: message, last_error_at: new Date(clock()).toISOString() })
      .catch(() => {});
    return { applied: 0, removed: 0, more: true, error: message };
  } finally {
    await releaseSyncLock(deps, token).catch(() => {});
  }
}

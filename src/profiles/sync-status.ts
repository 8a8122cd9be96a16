import { profileCounts } from "./repo";
import { keysOf, pgTime, readState, type SyncDeps } from "./sync-state";

/** The sync's report for `GET /v1/admin/sync/profiles`. */
export interface SyncStatus {
  /** When the sync last had every change below the horizon in the index (a backlog aside). */
  watermark: string | null;
  lag_ms: number | null;
  last_run_at: string | null;
  last_applied: number;
  last_error: { message: string; at: string } | null;
  counts: { postgres_live: number; postgres_tombstoned: number; redis_indexed: number };
  backlog: { running: boolean; applied: number };
  rebuild: {
    running: boolean;
    in_place: boolean;
    indexed: number;
    started_at: string | null;
    last_finished_at: string | null;
  };
}

const iso = (pg: string | undefined) => {
  const ms = pg === undefined ? Number.NaN : pgTime(pg);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
};

/** Watermark, lag, counts, last error, backlog and rebuild progress. */
export async function profileSyncStatus(deps: Pick<SyncDeps, "db" | "redis" | "keys">): Promise<SyncStatus> {
  const [state, counts, indexed] = await Promise.all([
    readState(deps),
    profileCounts(deps.db),
    deps.redis.zcard(keysOf(deps).index),
  ]);
  const watermark = iso(state.caught_up_at);
  const watermarkMs = watermark === null ? null : Date.parse(watermark);
  return {
    watermark,
    lag_ms:
      counts.newestChangeAt === null
        ? 0
        : watermarkMs === null
          ? null
          : Math.max(0, counts.newestChangeAt - watermarkMs),
    last_run_at: state.last_run_at ?? null,
    last_applied: Number(state.last_applied ?? 0),
    last_error: state.last_error ? { message: state.last_error, at: state.last_error_at ?? "" } : null,
    counts: { postgres_live: counts.live, postgres_tombstoned: counts.tombstoned, redis_indexed: indexed },
    backlog: { running: Boolean(state.backlog_until_xid), applied: Number(state.backlog_applied ?? 0) },
    rebuild: {
      running: Boolean(state.rebuild_id),
      in_place: state.rebuild_in_place === "1",
      indexed: Number(state.rebuild_count ?? 0),
      started_at: iso(state.rebuild_started_at),
      last_finished_at: state.last_rebuild_at ?? null,
    },
  };
}

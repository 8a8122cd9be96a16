import type { Redis } from "../redis/client";
import { redisKeys } from "../redis/keys";
import { courierStates, type Fix } from "./schemas";

/** A courier's live state as stored in Redis and returned by the API. */
export interface LiveState {
  courierId: string;
  lat: number;
  lon: number;
  recordedAt: number;
  lastSeenAt: number;
  speedMps: number | null;
  headingDeg: number | null;
  state: string | null;
  taskId: string | null;
}

/** The per-state GEO sets, including the one for couriers that report no state. */
export const liveStateSets = [...courierStates, "unknown"] as const;

/** Builds the live state from a courier's newest fix. */
export function liveStateOf(fix: Fix, lastSeenAt: number): LiveState {
  return {
    courierId: fix.courierId,
    lat: fix.lat,
    lon: fix.lon,
    recordedAt: fix.recordedAt,
    lastSeenAt,
    speedMps: fix.speedMps ?? null,
    headingDeg: fix.headingDeg ?? null,
    state: fix.state ?? null,
    taskId: fix.taskId ?? null,
  };
}

/** Reads a live state back from its Redis hash (values arrive JSON-parsed, hence the coercions). */
export function liveStateFromHash(hash: Record<string, unknown> | null): LiveState | null {
  if (!hash || hash.courierId === undefined) return null;
  const num = (v: unknown) => (v === null || v === undefined || v === "" ? null : Number(v));
  const str = (v: unknown) => (v === null || v === undefined || v === "" ? null : String(v));
  return {
    courierId: String(hash.courierId),
    lat: Number(hash.lat),
    lon: Number(hash.lon),
    recordedAt: Number(hash.recordedAt),
    lastSeenAt: Number(hash.lastSeenAt),
    speedMps: num(hash.speedMps),
    headingDeg: num(hash.headingDeg),
    state: str(hash.state),
    taskId: str(hash.taskId),
  };
}

/**
 * Publishes live states in one pipeline (one HTTP round trip to Upstash): position in the live GEO
 * set and in the set of its delivery state (leaving the others), the state hash, and the last-seen
 * score for stale cleanup.
 */
export async function publishLive(redis: Redis, states: LiveState[]): Promise<void> {
  if (states.length === 0) return;
  const p = redis.pipeline();
  for (const s of states) {
    const point = { longitude: s.lon, latitude: s.lat, member: s.courierId };
    const current = s.state ?? "unknown";
    p.geoadd(redisKeys.liveCouriers(), point);
    p.geoadd(redisKeys.liveCouriersInState(current), point);
    for (const other of liveStateSets) {
      if (other !== current) p.zrem(redisKeys.liveCouriersInState(other), s.courierId);
    }
    p.hset(redisKeys.courierState(s.courierId), {
      ...s,
      speedMps: s.speedMps ?? "",
      headingDeg: s.headingDeg ?? "",
      state: s.state ?? "",
      taskId: s.taskId ?? "",
    });
    p.zadd(redisKeys.courierLastSeen(), { score: s.lastSeenAt, member: s.courierId });
  }
  await p.exec();
}

/**
 * Removes couriers whose last sighting is older than `before` from the live index, in chunks so one
 * run stays within a Worker's subrequest budget. Returns the ids removed.
 */
export async function removeStaleCouriers(redis: Redis, before: number, chunk = 500): Promise<string[]> {
  const stale = (
    await redis.zrange<(string | number)[]>(redisKeys.courierLastSeen(), 0, before, {
      byScore: true,
      offset: 0,
      count: chunk,
    })
  ).map(String);
  if (stale.length === 0) return [];
  const p = redis.pipeline();
  p.zrem(redisKeys.liveCouriers(), ...stale);
  for (const state of liveStateSets) p.zrem(redisKeys.liveCouriersInState(state), ...stale);
  p.zrem(redisKeys.courierLastSeen(), ...stale);
  p.del(...stale.map((id) => redisKeys.courierState(id)));
  await p.exec();
  return stale;
}

/** The last-seen times of `ids` (null for couriers not in the live index). */
export async function lastSeen(redis: Redis, ids: string[]): Promise<(number | null)[]> {
  if (ids.length === 0) return [];
  const scores = await redis.zmscore(redisKeys.courierLastSeen(), ids);
  return (scores ?? []).map((s) => (s === null || s === undefined ? null : Number(s)));
}

/** Live states of `ids`, in order (null where a courier has none). */
export async function liveStates(redis: Redis, ids: string[]): Promise<(LiveState | null)[]> {
  if (ids.length === 0) return [];
  const p = redis.pipeline();
  for (const id of ids) p.hgetall(redisKeys.courierState(id));
  const hashes = (await p.exec()) as (Record<string, unknown> | null)[];
  return hashes.map(liveStateFromHash);
}

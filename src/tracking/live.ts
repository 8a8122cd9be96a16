import type { Redis } from "../redis/client";
import { redisKeys } from "../redis/keys";
import type { Fix } from "./schemas";

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

/**
 * Publishes live states in one pipeline (one HTTP round trip to Upstash): position in the live GEO
 * set, state hash, last-seen score for stale cleanup.
 */
export async function publishLive(redis: Redis, states: LiveState[]): Promise<void> {
  if (states.length === 0) return;
  const p = redis.pipeline();
  for (const s of states) {
    p.geoadd(redisKeys.liveCouriers(), { longitude: s.lon, latitude: s.lat, member: s.courierId });
    p.hset(redisKeys.courierState(s.courierId), { ...s });
    p.zadd(redisKeys.courierLastSeen(), { score: s.lastSeenAt, member: s.courierId });
  }
  await p.exec();
}

/**
 * Removes couriers whose last sighting is older than `before` from the live index, in chunks so one
 * run stays within a Worker's subrequest budget. Returns the ids removed.
 */
export async function removeStaleCouriers(redis: Redis, before: number, chunk = 500): Promise<string[]> {
  const stale = await redis.zrange<string[]>(redisKeys.courierLastSeen(), 0, before, {
    byScore: true,
    offset: 0,
    count: chunk,
  });
  if (stale.length === 0) return [];
  const p = redis.pipeline();
  p.zrem(redisKeys.liveCouriers(), ...stale);
  p.zrem(redisKeys.courierLastSeen(), ...stale);
  p.del(...stale.map((id) => redisKeys.courierState(id)));
  await p.exec();
  return stale;
}

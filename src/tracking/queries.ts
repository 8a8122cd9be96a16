import { nearbyRedis } from "../profiles/geo-index";
import type { Redis } from "../redis/client";
import { redisKeys } from "../redis/keys";
import { type LiveState, lastSeen, liveStateSets, liveStates } from "./live";

/** A live courier near a point. */
export interface NearbyCourier extends LiveState {
  distanceM: number;
}

/**
 * The `limit` nearest live couriers within `radiusM`, optionally in one delivery state, excluding
 * couriers not seen since `freshAfter` (the cleanup cron removes those only every few minutes).
 * Candidates come from the per-state GEO set, so a state filter costs no extra reads; a few more
 * than `limit` are fetched to make up for stale ones.
 */
export async function nearbyCouriers(
  redis: Redis,
  q: { lat: number; lon: number; radiusM: number; limit: number; state?: string; freshAfter: number },
): Promise<NearbyCourier[]> {
  const key = q.state ? redisKeys.liveCouriersInState(q.state) : redisKeys.liveCouriers();
  let want = q.limit + Math.min(20, q.limit);
  for (;;) {
    const { hits } = await nearbyRedis(redis, key, { ...q, limit: want });
    const ids = hits.map((h) => h.id);
    const [seen, states] = await Promise.all([lastSeen(redis, ids), liveStates(redis, ids)]);
    const fresh: NearbyCourier[] = [];
    hits.forEach((hit, i) => {
      const state = states[i];
      const at = seen[i];
      if (state && at !== null && at !== undefined && at >= q.freshAfter) {
        fresh.push({ ...state, lat: hit.lat, lon: hit.lon, distanceM: hit.distance_m });
      }
    });
    // Enough fresh ones, or the radius holds no more candidates: done.
    if (fresh.length >= q.limit || hits.length < want || want >= 400) return fresh.slice(0, q.limit);
    want *= 4;
  }
}

/**
 * Live couriers in the given states (by default the ones on a delivery), seen since `freshAfter`,
 * a page at a time in id order.
 */
export async function listCouriers(
  redis: Redis,
  q: { states: string[]; freshAfter: number; limit: number; after?: string },
): Promise<{ couriers: LiveState[]; next: string | null }> {
  const keys = q.states.filter((s) => (liveStateSets as readonly string[]).includes(s));
  const p = redis.pipeline();
  for (const key of keys) p.zrange(redisKeys.liveCouriersInState(key), 0, -1);
  const members = ((await p.exec()) as (string | number)[][]).flat().map(String);
  const ids = [...new Set(members)].sort().filter((id) => !q.after || id > q.after);
  const out: LiveState[] = [];
  for (let i = 0; i < ids.length && out.length < q.limit; i += 200) {
    const chunk = ids.slice(i, i + 200);
    const [seen, states] = await Promise.all([lastSeen(redis, chunk), liveStates(redis, chunk)]);
    chunk.forEach((_, j) => {
      const at = seen[j];
      const state = states[j];
      if (state && at !== null && at !== undefined && at >= q.freshAfter && out.length < q.limit)
        out.push(state);
    });
  }
  const last = out.at(-1);
  const hasMore = last !== undefined && ids.indexOf(last.courierId) < ids.length - 1;
  return { couriers: out, next: hasMore && last ? last.courierId : null };
}

/** Metres per degree of latitude (and of longitude at the equator) on the sphere Redis uses. */
const M_PER_DEG = 111_319.49;

/**
 * Live couriers inside a bounding box (the map's viewport), nearest to its centre first, at most
 * `limit`, stale ones left out; plus how many couriers are live in all.
 */
export async function couriersInBox(
  redis: Redis,
  q: { minLon: number; minLat: number; maxLon: number; maxLat: number; limit: number; freshAfter: number },
): Promise<{ couriers: LiveState[]; totalLive: number }> {
  const lat = (q.minLat + q.maxLat) / 2;
  const lon = (q.minLon + q.maxLon) / 2;
  const height = (q.maxLat - q.minLat) * M_PER_DEG;
  const width = (q.maxLon - q.minLon) * M_PER_DEG * Math.cos((lat * Math.PI) / 180);
  const [raw, total] = await Promise.all([
    redis.eval<string[], (string | number)[]>(
      "return redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[1], ARGV[2], 'BYBOX', ARGV[3], ARGV[4], 'm', 'ASC', 'COUNT', ARGV[5])",
      [redisKeys.liveCouriers()],
      [String(lon), String(lat), String(Math.max(1, width)), String(Math.max(1, height)), String(q.limit)],
    ),
    redis.zcount(redisKeys.courierLastSeen(), q.freshAfter, "+inf"),
  ]);
  const ids = raw.map(String);
  const [seen, states] = await Promise.all([lastSeen(redis, ids), liveStates(redis, ids)]);
  const couriers = states.filter((s, i): s is LiveState => s !== null && (seen[i] ?? 0) >= q.freshAfter);
  return { couriers, totalLive: Number(total) };
}

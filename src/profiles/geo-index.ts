import type { Redis } from "../redis/client";
import type { NearbyHit } from "./schemas";

/**
 * The k nearest members within the radius, found by widening a small radius instead of scanning the
 * whole one. GEOSEARCH's cost grows with the points inside the radius searched, not with k, so the
 * script starts at ARGV[5] metres and, while fewer than k came back, widens to where the density
 * seen so far says k will fit (at least doubling, never past the caller's radius). Any k members
 * found within a radius s are exactly the k nearest overall: everything outside s is farther.
 * One round trip; read-only.
 *
 * KEYS[1] = GEO key; ARGV = lon, lat, radius_m, k, start_m.
 * Returns { hits (GEOSEARCH WITHDIST WITHCOORD), searched radius, rounds }.
 */
export const ADAPTIVE_NEARBY_LUA = `
local lon, lat = ARGV[1], ARGV[2]
local r, k, s = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if s > r then s = r end
local rounds = 0
while true do
  rounds = rounds + 1
  local hits = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', lon, lat, 'BYRADIUS', s, 'm', 'ASC', 'COUNT', k, 'WITHDIST', 'WITHCOORD')
  local n = #hits
  if n >= k or s >= r then
    return { hits, tostring(s), rounds }
  end
  local grow = 4
  if n > 0 then grow = math.max(2, 1.25 * math.sqrt(k / n)) end
  s = math.min(r, s * grow)
end
`;

/** Where the adaptive search starts: a sixteenth of the radius, at least 25 m. */
export function startRadius(radiusM: number): number {
  return Math.min(radiusM, Math.max(25, radiusM / 16));
}

type RawHit = [string | number, string | number, [string | number, string | number]];

function toHits(raw: RawHit[]): NearbyHit[] {
  // The client turns numeric-looking members into numbers; String() gives back the exact id.
  return raw.map(([id, d, [lon, lat]]) => ({
    id: String(id),
    distance_m: Number(d),
    lat: Number(lat),
    lon: Number(lon),
  }));
}

/** What the Redis engine answered and how much of the radius it needed. */
export interface RedisNearbyResult {
  hits: NearbyHit[];
  searchedRadiusM: number;
  rounds: number;
}

/** The adaptive Redis engine (see {@link ADAPTIVE_NEARBY_LUA}). */
export async function nearbyRedis(
  redis: Redis,
  key: string,
  q: { lat: number; lon: number; radiusM: number; limit: number },
): Promise<RedisNearbyResult> {
  const script = redis.createScript<[RawHit[], string, number]>(ADAPTIVE_NEARBY_LUA);
  const [raw, searched, rounds] = await script.exec(
    [key],
    [String(q.lon), String(q.lat), String(q.radiusM), String(q.limit), String(startRadius(q.radiusM))],
  );
  return { hits: toHits(raw), searchedRadiusM: Number(searched), rounds };
}

/** The plain full-radius GEOSEARCH, kept as the baseline the adaptive engine is measured against. */
export async function nearbyRedisFullRadius(
  redis: Redis,
  key: string,
  q: { lat: number; lon: number; radiusM: number; limit: number },
): Promise<NearbyHit[]> {
  const raw = await redis.eval<string[], RawHit[]>(
    "return redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[1], ARGV[2], 'BYRADIUS', ARGV[3], 'm', 'ASC', 'COUNT', ARGV[4], 'WITHDIST', 'WITHCOORD')",
    [key],
    [String(q.lon), String(q.lat), String(q.radiusM), String(q.limit)],
  );
  return toHits(raw);
}

/** Adds or moves profiles in a GEO key, in one pipeline. */
export async function indexProfiles(
  redis: Redis,
  key: string,
  points: { id: string; lat: number; lon: number }[],
): Promise<void> {
  if (points.length === 0) return;
  const [first, ...rest] = points.map((p) => ({ longitude: p.lon, latitude: p.lat, member: p.id }));
  if (!first) return;
  await redis.geoadd(key, first, ...rest);
}

/** Removes profiles from a GEO key. */
export async function unindexProfiles(redis: Redis, key: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await redis.zrem(key, ...ids);
}

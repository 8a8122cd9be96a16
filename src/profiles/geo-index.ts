import type { Redis } from "../redis/client";
import type { NearbyHit } from "./schemas";

/**
 * The k nearest members within the radius, found by growing a small radius instead of scanning the
 * whole one. GEOSEARCH's cost grows with the points inside the radius it searches, not with k, so
 * the script starts where the local density says k points will fit and, while fewer than k came
 * back, widens to where the density seen so far says they will (at least ×1.5, ×4 when nothing was
 * found), never past the caller's radius. Any k members found within a radius s are exactly the k
 * nearest overall: everything outside s is farther.
 *
 * The local density comes from the index itself: the members of a GEO key are a sorted set scored
 * by 52-bit geohash, so the members of one geohash cell are one score range, and `ZCOUNT` counts
 * them in O(log n) without reading them. The app passes the ranges of the cells holding the query
 * point at a few sizes (finest first, see {@link densityCells}); the first cell holding at least k
 * members gives the density, and the search starts at 1.3× the radius that density says k members
 * need (1.3 measured cheapest: a smaller margin needs a second search more often, a larger one
 * reads more points). The script keeps no state and writes nothing. Members come back with their
 * geohash only (no distances or coordinates, which Lua would have to convert): the app decodes
 * them as Redis would.
 *
 * KEYS[1] = GEO key; ARGV = lon, lat, radius_m, k, fallback start_m, then per cell: min score,
 * max score (exclusive), area in m². Returns { [member, hash]..., searched radius, rounds }.
 */
export const ADAPTIVE_NEARBY_LUA = `
local lon, lat = tonumber(ARGV[1]), tonumber(ARGV[2])
local r, k = tonumber(ARGV[3]), tonumber(ARGV[4])
local s = tonumber(ARGV[5])
for i = 6, #ARGV, 3 do
  local c = redis.call('ZCOUNT', KEYS[1], ARGV[i], '(' .. ARGV[i + 1])
  if c >= k then
    s = 1.3 * math.sqrt(k * tonumber(ARGV[i + 2]) / (math.pi * c))
    break
  end
end
-- Close to the whole radius anyway: one search of it is cheaper than two.
if s > 0.6 * r then s = r end
if s < 10 then s = math.min(10, r) end
local rounds = 0
while true do
  rounds = rounds + 1
  local hits = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', lon, lat, 'BYRADIUS', s, 'm', 'ASC', 'COUNT', k, 'WITHHASH')
  local n = #hits
  if n >= k or s >= r then return { hits, tostring(s), rounds } end
  local grow = 4
  if n > 0 then grow = math.max(1.5, 1.15 * math.sqrt(k / n)) end
  s = math.min(r, s * grow)
end
`;

/** Where the search starts where even the coarsest cell holds fewer than k: a sixteenth of the radius, at least 25 m. */
export function startRadius(radiusM: number): number {
  return Math.min(radiusM, Math.max(25, radiusM / 16));
}

const LAT_MIN = -85.05112878;
const LAT_MAX = 85.05112878;
/** Bits per axis of a Redis GEO score (52 bits in all). */
const STEP = 26;

/** Geohash steps (bits per axis) of the cells whose counts give the density: about 470, 940 and 1,900 m wide at 40°. */
const DENSITY_STEPS = [16, 15, 14];
const METRES_PER_DEGREE = 111_320;

/**
 * The score ranges (min, max exclusive) and areas (m²) of the geohash cells holding the point at
 * each of {@link DENSITY_STEPS}, finest first, as the script's ARGV expects.
 */
export function densityCells(lat: number, lon: number): string[] {
  const latBits = Math.floor(((lat - LAT_MIN) / (LAT_MAX - LAT_MIN)) * 2 ** STEP);
  const lonBits = Math.floor(((lon + 180) / 360) * 2 ** STEP);
  const out: string[] = [];
  for (const step of DENSITY_STEPS) {
    // Interleave the top `step` bits of each axis, longitude above latitude, as Redis scores them.
    let cell = 0;
    for (let i = step - 1; i >= 0; i--) {
      const bit = STEP - step + i;
      cell = cell * 4 + (Math.floor(lonBits / 2 ** bit) % 2) * 2 + (Math.floor(latBits / 2 ** bit) % 2);
    }
    const width = 2 ** (2 * (STEP - step));
    const heightM = ((LAT_MAX - LAT_MIN) / 2 ** step) * METRES_PER_DEGREE;
    const widthM = (360 / 2 ** step) * METRES_PER_DEGREE * Math.cos((lat * Math.PI) / 180);
    out.push(String(cell * width), String((cell + 1) * width), String(Math.round(heightM * widthM)));
  }
  return out;
}

/** A nearby query as the script's ARGV; `start` is where it starts without a density. */
export function adaptiveArgs(
  q: { lat: number; lon: number; radiusM: number; limit: number },
  start = startRadius(q.radiusM),
): string[] {
  return [
    String(q.lon),
    String(q.lat),
    String(q.radiusM),
    String(q.limit),
    String(start),
    ...densityCells(q.lat, q.lon),
  ];
}

/** The Earth radius Redis GEO measures with, in metres. */
const REDIS_EARTH_RADIUS_M = 6_372_797.560856;

/** Gathers every other bit of a 32-bit number (bits 0, 2, 4, … when `shift` is 0). */
function squash(word: number, shift: number): number {
  let out = 0;
  for (let i = 0; i < 16; i++) out |= ((word >>> (2 * i + shift)) & 1) << i;
  return out;
}

/**
 * Decodes a Redis GEO score (a 52-bit interleaved geohash: latitude bits at even positions) to the
 * centre of its cell, exactly as Redis does for `WITHCOORD`.
 */
export function decodeGeohash(hash: number): { lat: number; lon: number } {
  const lo = hash % 2 ** 32;
  const hi = Math.floor(hash / 2 ** 32);
  const latBits = squash(lo, 0) + squash(hi, 0) * 2 ** 16;
  const lonBits = squash(lo, 1) + squash(hi, 1) * 2 ** 16;
  const cells = 2 ** STEP;
  const latMin = LAT_MIN + (latBits / cells) * (LAT_MAX - LAT_MIN);
  const latMax = LAT_MIN + ((latBits + 1) / cells) * (LAT_MAX - LAT_MIN);
  const lonMin = -180 + (lonBits / cells) * 360;
  const lonMax = -180 + ((lonBits + 1) / cells) * 360;
  return {
    lat: Math.min(LAT_MAX, Math.max(LAT_MIN, (latMin + latMax) / 2)),
    lon: Math.min(180, Math.max(-180, (lonMin + lonMax) / 2)),
  };
}

/** Great-circle distance as Redis GEO computes it (`WITHDIST`), in metres. */
export function redisDistance(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const v = Math.sin(((lon2 - lon1) * rad) / 2);
  const u = Math.sin(((lat2 - lat1) * rad) / 2);
  const a = u * u + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * v * v;
  return 2 * REDIS_EARTH_RADIUS_M * Math.asin(Math.sqrt(a));
}

type RawHashHit = [string | number, string | number];

/** Turns `[member, geohash]` replies into hits measured from the query point. */
function hashHits(raw: RawHashHit[], q: { lat: number; lon: number }): NearbyHit[] {
  // The client turns numeric-looking members into numbers; String() gives back the exact id.
  return raw.map(([id, hash]) => {
    const p = decodeGeohash(Number(hash));
    return { id: String(id), distance_m: redisDistance(q.lat, q.lon, p.lat, p.lon), lat: p.lat, lon: p.lon };
  });
}

/** What the Redis engine answered and how much of the radius it needed. */
export interface RedisNearbyResult {
  hits: NearbyHit[];
  searchedRadiusM: number;
  rounds: number;
}

let sha: Promise<string> | undefined;

/** The script's SHA-1, computed once per isolate rather than on every query. */
function adaptiveSha(): Promise<string> {
  sha ??= crypto.subtle
    .digest("SHA-1", new TextEncoder().encode(ADAPTIVE_NEARBY_LUA))
    .then((d) => [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join(""));
  return sha;
}

/** The adaptive Redis engine (see {@link ADAPTIVE_NEARBY_LUA}). */
export async function nearbyRedis(
  redis: Redis,
  key: string,
  q: { lat: number; lon: number; radiusM: number; limit: number },
): Promise<RedisNearbyResult> {
  const keys = [key];
  const args = adaptiveArgs(q);
  type Reply = [RawHashHit[], string, number];
  let reply: Reply;
  try {
    reply = await redis.evalsha<string[], Reply>(await adaptiveSha(), keys, args);
  } catch (error) {
    // A Redis that has not seen the script yet (or lost it on restart) loads it with EVAL.
    if (!String(error).includes("NOSCRIPT")) throw error;
    reply = await redis.eval<string[], Reply>(ADAPTIVE_NEARBY_LUA, keys, args);
  }
  const [raw, searched, rounds] = reply;
  return { hits: hashHits(raw, q), searchedRadiusM: Number(searched), rounds };
}

/** The plain full-radius GEOSEARCH, kept as the baseline the adaptive engine is measured against. */
export async function nearbyRedisFullRadius(
  redis: Redis,
  key: string,
  q: { lat: number; lon: number; radiusM: number; limit: number },
): Promise<NearbyHit[]> {
  const raw = await redis.eval<string[], RawHashHit[]>(
    "return redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[1], ARGV[2], 'BYRADIUS', ARGV[3], 'm', 'ASC', 'COUNT', ARGV[4], 'WITHHASH')",
    [key],
    [String(q.lon), String(q.lat), String(q.radiusM), String(q.limit)],
  );
  return hashHits(raw, q);
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

import type { Redis } from "../redis/client";
import { redisKeys } from "../redis/keys";
import type { NearbyHit } from "./schemas";

/**
 * The k nearest members within the radius, found by growing a small radius instead of scanning the
 * whole one. GEOSEARCH's cost grows with the points inside the radius it searches, not with k, so
 * the script starts where the local density says k points will fit and, while fewer than k came
 * back, widens to where the density seen so far says they will (at least ×1.5, ×4 when nothing was
 * found), never past the caller's radius. Any k members found within a radius s are exactly the k
 * nearest overall: everything outside s is farther. Each query learns the density from the distance
 * of its k-th nearest and keeps it per cell of about 1 km (and, as the fallback for a cell not
 * queried yet, per 5 km cell), so the next query there starts just beyond it; the hint is written
 * only when it moved by more than a tenth. Members come back with their geohash only (no distances
 * or coordinates, which Lua would have to convert): the app decodes them as Redis would.
 *
 * KEYS[1] = GEO key, KEYS[2] = density hints; ARGV = lon, lat, radius_m, k, fallback start_m,
 * fine hint field, coarse hint field (see {@link adaptiveArgs}).
 * Returns { [member, hash]..., searched radius, rounds }.
 */
export const ADAPTIVE_NEARBY_LUA = `
local lon, lat = tonumber(ARGV[1]), tonumber(ARGV[2])
local r, k = tonumber(ARGV[3]), tonumber(ARGV[4])
local s = tonumber(ARGV[5])
local hints = redis.call('HMGET', KEYS[2], ARGV[6], ARGV[7])
local known = tonumber(hints[1] or '')
local density = known or tonumber(hints[2] or '') or 0
if density > 0 then s = 1.15 * math.sqrt(k / (math.pi * density)) end
-- Close to the whole radius anyway: one search of it is cheaper than two.
if s > 0.6 * r then s = r end
if s < 10 then s = math.min(10, r) end
-- The centre of a 52-bit geohash cell (latitude bits at even positions), as Redis decodes it.
local function centre(h)
  local hi = math.floor(h / 4294967296)
  local lo = h - hi * 4294967296
  local la, lo2 = 0, 0
  for i = 0, 15 do
    la = la + (math.floor(lo / 2 ^ (2 * i)) % 2) * 2 ^ i
    lo2 = lo2 + (math.floor(lo / 2 ^ (2 * i + 1)) % 2) * 2 ^ i
  end
  for i = 0, 9 do
    la = la + (math.floor(hi / 2 ^ (2 * i)) % 2) * 2 ^ (16 + i)
    lo2 = lo2 + (math.floor(hi / 2 ^ (2 * i + 1)) % 2) * 2 ^ (16 + i)
  end
  return -85.05112878 + (la + 0.5) / 67108864 * 170.10225756, -180 + (lo2 + 0.5) / 67108864 * 360
end
local rounds = 0
while true do
  rounds = rounds + 1
  local hits = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', lon, lat, 'BYRADIUS', s, 'm', 'ASC', 'COUNT', k, 'WITHHASH')
  local n = #hits
  if n >= k or s >= r then
    if n >= k then
      -- Learn the density from how far the k-th nearest really was, for the next query here.
      local plat, plon = centre(tonumber(hits[n][2]))
      local rad = math.pi / 180
      local u = math.sin((plat - lat) * rad / 2)
      local v = math.sin((plon - lon) * rad / 2)
      local d = 2 * 6372797.560856 * math.asin(math.sqrt(u * u + math.cos(lat * rad) * math.cos(plat * rad) * v * v))
      if d < 1 then d = 1 end
      local seen = k / (math.pi * d * d)
      if not known or math.abs(seen / known - 1) > 0.1 then
        redis.call('HSET', KEYS[2], ARGV[6], tostring(seen), ARGV[7], tostring(seen))
      end
    end
    return { hits, tostring(s), rounds }
  end
  local grow = 4
  if n > 0 then grow = math.max(1.5, 1.15 * math.sqrt(k / n)) end
  s = math.min(r, s * grow)
end
`;

/** Where the search starts in an area it knows nothing about: a sixteenth of the radius, at least 25 m. */
export function startRadius(radiusM: number): number {
  return Math.min(radiusM, Math.max(25, radiusM / 16));
}

/**
 * The density hint fields a query reads and updates: its cell of 0.01° (about 1 km) and, as the
 * fallback where that cell has no hint yet, its cell of 0.05° (about 5 km).
 */
export function hintCells(lat: number, lon: number): [fine: string, coarse: string] {
  return [
    `f${Math.floor(lat * 100)}:${Math.floor(lon * 100)}`,
    `${Math.floor(lat * 20)}:${Math.floor(lon * 20)}`,
  ];
}

/** A nearby query as the script's ARGV; `start` is where it starts without a hint. */
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
    ...hintCells(q.lat, q.lon),
  ];
}

const LAT_MIN = -85.05112878;
const LAT_MAX = 85.05112878;
const STEP = 26;
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
  const keys = [key, redisKeys.densityHints(key)];
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

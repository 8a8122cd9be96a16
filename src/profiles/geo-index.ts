import type { Redis } from "../redis/client";
import {
  blockArgs,
  CELL_COUNTS_LUA,
  cellPosition,
  type DensityCache,
  densityRadius,
  isolateDensity,
} from "./density";
import { decodeGeohash, redisDistance } from "./geohash";
import type { NearbyHit } from "./schemas";

/** A `[member, geohash]` pair as GEOSEARCH … WITHHASH returns it. */
export type RawHashHit = [string | number, string | number];

/**
 * The two Redis calls the adaptive search makes, so that the app (through Upstash) and the
 * benchmark (over RESP) run the same search.
 */
export interface GeoCommands {
  /** `GEOSEARCH key FROMLONLAT lon lat BYRADIUS radiusM m ASC COUNT k WITHHASH`. */
  search(key: string, lon: number, lat: number, radiusM: number, k: number): Promise<RawHashHit[]>;
  /** {@link CELL_COUNTS_LUA} with these arguments. */
  cellCounts(key: string, args: string[]): Promise<number[]>;
}

/** The words of {@link GeoCommands.search}'s command. */
export function searchCommand(
  key: string,
  lon: number,
  lat: number,
  radiusM: number,
  k: number,
): [string, ...(string | number)[]] {
  return ["GEOSEARCH", key, "FROMLONLAT", lon, lat, "BYRADIUS", radiusM, "m", "ASC", "COUNT", k, "WITHHASH"];
}

/** Where the search starts when the block holds fewer than k: a sixteenth of the radius, at least 25 m. */
function startRadius(radiusM: number): number {
  return Math.min(radiusM, Math.max(25, radiusM / 16));
}

/** What the adaptive search found (undecoded) and how much of the radius it needed. */
export interface AdaptiveAnswer {
  raw: RawHashHit[];
  searchedRadiusM: number;
  rounds: number;
}

/**
 * The k nearest members within the radius, found by growing a small radius instead of scanning the
 * whole one. GEOSEARCH's cost grows with the points inside the radius it searches, not with k, so
 * the search starts where the local density (see ./density.ts) says k members will fit and, while
 * fewer than k came back, widens to where the members seen so far say they will (at least ×1.5, ×4
 * when nothing was found), never past the caller's radius. Any k members found within a radius s
 * are exactly the k nearest overall: everything outside s is farther.
 *
 * Each round is one plain GEOSEARCH, not a script: a script's call and the conversion of its
 * reply through Lua cost Redis about as much again as the search itself. Members come back with
 * their geohash only; {@link decodeHits} turns them into coordinates and distances as Redis would.
 */
export async function adaptiveSearch(
  geo: GeoCommands,
  key: string,
  q: { lat: number; lon: number; radiusM: number; limit: number },
  density: DensityCache = isolateDensity,
): Promise<AdaptiveAnswer> {
  const at = cellPosition(q.lat, q.lon);
  const counts = await density.counts(key, at.block, () => geo.cellCounts(key, blockArgs(at.block)));
  const r = q.radiusM;
  const k = q.limit;
  let s = densityRadius(counts, at, k) ?? startRadius(r);
  // Close to the whole radius anyway: one search of it is cheaper than two.
  if (s > 0.6 * r) s = r;
  // Whole metres (never past r): a shorter argument for Redis to parse, and as exact.
  s = Math.min(r, Math.ceil(Math.max(s, 10)));
  for (let rounds = 1; ; rounds++) {
    const raw = await geo.search(key, q.lon, q.lat, s, k);
    if (raw.length >= k || s >= r) return { raw, searchedRadiusM: s, rounds };
    const grow = raw.length > 0 ? Math.max(1.5, 1.15 * Math.sqrt(k / raw.length)) : 4;
    s = Math.min(r, Math.ceil(s * grow));
  }
}

/** Turns `[member, geohash]` replies into hits measured from the query point. */
export function decodeHits(raw: RawHashHit[], q: { lat: number; lon: number }): NearbyHit[] {
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

/** The adaptive search's calls through the Upstash client. */
export function upstashGeo(redis: Redis): GeoCommands {
  return {
    search: (key, lon, lat, radiusM, k) => redis.exec<RawHashHit[]>(searchCommand(key, lon, lat, radiusM, k)),
    // EVALSHA, falling back to EVAL for a Redis that has not seen the script (the client's Script
    // does both); only a block the isolate has no counts for gets here.
    cellCounts: (key, args) => redis.createScript<number[]>(CELL_COUNTS_LUA).exec([key], args),
  };
}

/** The adaptive Redis engine (see {@link adaptiveSearch}). */
export async function nearbyRedis(
  redis: Redis,
  key: string,
  q: { lat: number; lon: number; radiusM: number; limit: number },
): Promise<RedisNearbyResult> {
  const { raw, searchedRadiusM, rounds } = await adaptiveSearch(upstashGeo(redis), key, q);
  return { hits: decodeHits(raw, q), searchedRadiusM, rounds };
}

/** The plain full-radius GEOSEARCH, kept as the baseline the adaptive engine is measured against. */
export async function nearbyRedisFullRadius(
  redis: Redis,
  key: string,
  q: { lat: number; lon: number; radiusM: number; limit: number },
): Promise<NearbyHit[]> {
  const raw = await redis.exec<RawHashHit[]>(searchCommand(key, q.lon, q.lat, q.radiusM, q.limit));
  return decodeHits(raw, q);
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

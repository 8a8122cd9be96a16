/**
 * Redis GEO's geohash, as Redis computes it: a 52-bit score interleaving 26 bits of longitude
 * (odd positions) with 26 of latitude (even positions), latitude limited to ±85.05°.
 */

export const LAT_MIN = -85.05112878;
export const LAT_MAX = 85.05112878;
/** Bits per axis of a Redis GEO score (52 bits in all). */
export const STEP = 26;

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

/** Spreads the 16 low bits of `x` to the even bit positions of a 32-bit number. */
function spread(x: number): number {
  let v = x & 0xffff;
  v = (v | (v << 8)) & 0x00ff00ff;
  v = (v | (v << 4)) & 0x0f0f0f0f;
  v = (v | (v << 2)) & 0x33333333;
  v = (v | (v << 1)) & 0x55555555;
  return v >>> 0;
}

/**
 * The interleaved index of the geohash cell holding a point, at `step` bits per axis (at most 16,
 * so that the index stays below 2^32): longitude bits above latitude bits, as Redis scores them.
 */
export function cellIndex(lat: number, lon: number, step: number): number {
  const clamped = Math.min(LAT_MAX, Math.max(LAT_MIN, lat));
  const latBits = Math.min(
    2 ** STEP - 1,
    Math.floor(((clamped - LAT_MIN) / (LAT_MAX - LAT_MIN)) * 2 ** STEP),
  );
  const lonBits = Math.min(2 ** STEP - 1, Math.floor(((lon + 180) / 360) * 2 ** STEP));
  const shift = STEP - step;
  return spread(lonBits >>> shift) * 2 + spread(latBits >>> shift);
}

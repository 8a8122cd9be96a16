import type { NearbyHit } from "../../src/profiles/schemas";
import { haversineM } from "../../src/profiles/tolerance";

/** A point with an id, as tests generate them. */
export interface Point {
  id: string;
  lat: number;
  lon: number;
}

/** A small seeded generator, so a failing case can be replayed from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A centre far from every other test's data (tests share one Redis index and one table), so a
 * nearby query around it sees only this test's points.
 */
export function isolatedCentre(random: () => number): { lat: number; lon: number } {
  return { lat: -60 + random() * 120, lon: -170 + random() * 340 };
}

/** `n` points scattered within `spreadM` of `centre`, denser towards it, like a city. */
export function scatter(
  prefix: string,
  centre: { lat: number; lon: number },
  n: number,
  spreadM: number,
  random: () => number,
): Point[] {
  const mPerDegLat = 111_320;
  const mPerDegLon = 111_320 * Math.cos((centre.lat * Math.PI) / 180);
  return Array.from({ length: n }, (_, i) => {
    const r = spreadM * random() ** 1.5;
    const angle = random() * 2 * Math.PI;
    return {
      id: `${prefix}-${i}`,
      lat: centre.lat + (r * Math.sin(angle)) / mPerDegLat,
      lon: centre.lon + (r * Math.cos(angle)) / mPerDegLon,
    };
  });
}

/** The brute-force answer: every point within the radius, nearest first, first `limit`. */
export function bruteForce(
  points: Point[],
  q: { lat: number; lon: number; radiusM: number; limit: number },
): NearbyHit[] {
  return points
    .map((p) => ({ id: p.id, lat: p.lat, lon: p.lon, distance_m: haversineM(q.lat, q.lon, p.lat, p.lon) }))
    .filter((h) => h.distance_m <= q.radiusM)
    .sort((a, b) => a.distance_m - b.distance_m)
    .slice(0, q.limit);
}

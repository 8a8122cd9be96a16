import type { NearbyHit } from "./schemas";

/**
 * How far two engines' distances may disagree, in metres, at distance `d`. Both measure great
 * circles on a sphere, but Redis stores points as 52-bit geohashes (up to about 0.6 m off) and uses
 * an Earth radius of 6,372,797.56 m where PostGIS uses 6,371,008.8 m (0.028 % apart).
 */
export function distanceTolerance(d: number): number {
  return 1 + d * 0.0005;
}

/** Mean Earth radius PostGIS uses for sphere distances, in metres. */
export const EARTH_RADIUS_M = 6_371_008.8;

/** Great-circle distance on the sphere, in metres: the reference the engines are checked against. */
export function haversineM(
  lat1: number,
  lon1: number,
  lat2: number,
  lon2: number,
  radius = EARTH_RADIUS_M,
): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * radius * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Why two answers to the same nearby query differ beyond the tolerance, or undefined when they agree. */
export function compareNearby(
  expected: NearbyHit[],
  actual: NearbyHit[],
  q: { radiusM: number; limit: number },
): string | undefined {
  const exp = new Map(expected.map((h) => [h.id, h]));
  const act = new Map(actual.map((h) => [h.id, h]));
  // The distance of the farthest result: a result near it (or near the radius) may be swapped for a tie.
  const edge = Math.min(
    q.radiusM,
    Math.max(expected.at(-1)?.distance_m ?? 0, actual.at(-1)?.distance_m ?? 0),
  );
  const borderline = (h: NearbyHit) =>
    Math.abs(h.distance_m - edge) <= distanceTolerance(edge) ||
    Math.abs(h.distance_m - q.radiusM) <= distanceTolerance(q.radiusM);
  if (expected.length !== actual.length) {
    const extra = [...expected.filter((h) => !act.has(h.id)), ...actual.filter((h) => !exp.has(h.id))];
    if (!extra.every(borderline)) return `expected ${expected.length} results, got ${actual.length}`;
  }
  for (const [id, hit] of exp) {
    const other = act.get(id);
    if (!other) {
      if (!borderline(hit)) return `missing ${id} at ${hit.distance_m.toFixed(2)} m`;
      continue;
    }
    if (Math.abs(other.distance_m - hit.distance_m) > distanceTolerance(hit.distance_m)) {
      return `${id}: distance ${other.distance_m.toFixed(2)} m, expected ${hit.distance_m.toFixed(2)} m`;
    }
  }
  for (const [id, hit] of act) {
    if (!exp.has(id) && !borderline(hit)) return `unexpected ${id} at ${hit.distance_m.toFixed(2)} m`;
  }
  for (let i = 1; i < actual.length; i++) {
    const prev = actual[i - 1] as NearbyHit;
    const cur = actual[i] as NearbyHit;
    if (cur.distance_m + distanceTolerance(cur.distance_m) < prev.distance_m)
      return `not nearest first at ${i}`;
  }
  return undefined;
}

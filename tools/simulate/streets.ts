import type { City } from "./cities";
import { mixSeed, type Random, unit } from "./random";

/** Metres per degree of latitude (sphere of radius 6,371,008.8 m). */
const M_PER_DEG = (6_371_008.8 * Math.PI) / 180;
/** How far a whole street is shifted from its even spacing, in blocks: blocks run 0.7–1.3 wide. */
const LINE_JITTER = 0.15;
/** How far an intersection is moved off its streets' crossing, in blocks: streets are not ruled. */
const NODE_JITTER = 0.05;
/**
 * Cost of one diagonal step along an avenue, in blocks. Geometrically √2; avenues are wider and
 * faster, so couriers prefer them a little.
 */
const AVENUE_STEP_COST = Math.SQRT2 * 0.85;

/** A point in the city's local frame: metres east (x) and north (y) of the centre. */
export interface Point {
  x: number;
  y: number;
}

/** An intersection, by its street numbers: `i` counts across the grid, `j` along it. */
export interface Node {
  i: number;
  j: number;
}

/** A straight run of a route: `n` steps of (`di`, `dj`), each -1, 0 or 1. */
export interface Leg {
  di: number;
  dj: number;
  n: number;
}

/** A diagonal avenue: the intersections with `i - j = c`, or `i + j = c` when `anti`. */
interface Avenue {
  anti: boolean;
  c: number;
}

/**
 * A city's synthetic street network: a rotated, jittered grid of intersections (i, j) in
 * [-half, half]² plus a few diagonal avenues through them. Nothing is stored per intersection:
 * positions are recomputed from a hash of (city, i, j), so the network costs two small arrays
 * whatever its size, and the same city always has the same streets whatever the run's seed.
 */
export class StreetGrid {
  /** Intersections run from -half to half on both axes. */
  readonly half: number;
  readonly block: number;
  private readonly seed: number;
  private readonly lineU: Float64Array;
  private readonly lineV: Float64Array;
  private readonly avenues: Avenue[] = [];
  private readonly sin: number;
  private readonly cos: number;
  private readonly mPerDegLon: number;

  constructor(readonly city: City) {
    this.block = city.blockM;
    this.seed = mixSeed(Math.round(city.lat * 1e4), Math.round(city.lon * 1e4));
    this.half = Math.floor((city.extentKm * 1000) / this.block - LINE_JITTER - NODE_JITTER);
    const n = 2 * this.half + 1;
    this.lineU = new Float64Array(n);
    this.lineV = new Float64Array(n);
    for (let k = -this.half; k <= this.half; k++) {
      this.lineU[k + this.half] = (k + (unit(mixSeed(this.seed, 1, k)) - 0.5) * 2 * LINE_JITTER) * this.block;
      this.lineV[k + this.half] = (k + (unit(mixSeed(this.seed, 2, k)) - 0.5) * 2 * LINE_JITTER) * this.block;
    }
    for (let k = 0; k < city.avenues; k++) {
      // Through the middle half of the grid, where they are useful; alternately rising and falling.
      const c = Math.round((unit(mixSeed(this.seed, 3, k)) - 0.5) * this.half);
      this.avenues.push({ anti: k % 2 === 1, c });
    }
    const theta = (city.bearingDeg * Math.PI) / 180;
    this.sin = Math.sin(theta);
    this.cos = Math.cos(theta);
    this.mPerDegLon = M_PER_DEG * Math.cos((city.lat * Math.PI) / 180);
  }

  /** Writes the position of intersection (i, j) into `out`. */
  position(i: number, j: number, out: Point): Point {
    const wiggle = 2 * NODE_JITTER * this.block;
    const u = (this.lineU[i + this.half] ?? 0) + (unit(mixSeed(this.seed, 4, i, j)) - 0.5) * wiggle;
    const v = (this.lineV[j + this.half] ?? 0) + (unit(mixSeed(this.seed, 5, i, j)) - 0.5) * wiggle;
    out.x = u * this.cos + v * this.sin;
    out.y = -u * this.sin + v * this.cos;
    return out;
  }

  /** Latitude of a local point. */
  lat(p: Point): number {
    return this.city.lat + p.y / M_PER_DEG;
  }

  /** Longitude of a local point. */
  lon(p: Point): number {
    return this.city.lon + p.x / this.mPerDegLon;
  }

  /** A position in the grid's own frame, in metres: |u| and |v| stay within the extent. */
  gridFrame(lat: number, lon: number): { u: number; v: number } {
    const x = (lon - this.city.lon) * this.mPerDegLon;
    const y = (lat - this.city.lat) * M_PER_DEG;
    return { u: x * this.cos - y * this.sin, v: x * this.sin + y * this.cos };
  }

  /** Whether (i, j) is an intersection of the grid. */
  contains(i: number, j: number): boolean {
    return Math.abs(i) <= this.half && Math.abs(j) <= this.half;
  }

  /** A random intersection, denser towards the centre (where the restaurants and customers are). */
  randomNode(rng: Random): Node {
    const pick = () => Math.max(-this.half, Math.min(this.half, Math.round((rng.gauss() * this.half) / 2.5)));
    return { i: pick(), j: pick() };
  }

  /**
   * An intersection roughly `minM`–`maxM` in a straight line from `from`. Tries random directions;
   * near the edge of the grid, falls back to heading towards the centre, which always fits
   * because the extent is at least as large as the longest trip.
   */
  nodeNear(from: Node, minM: number, maxM: number, rng: Random): Node {
    for (let attempt = 0; attempt < 8; attempt++) {
      const r = rng.range(minM, maxM) / this.block;
      const a = rng.range(0, 2 * Math.PI);
      const to = { i: from.i + Math.round(r * Math.cos(a)), j: from.j + Math.round(r * Math.sin(a)) };
      if (this.contains(to.i, to.j)) return to;
    }
    const r = rng.range(minM, maxM) / this.block;
    const norm = Math.hypot(from.i, from.j) || 1;
    const clamp = (k: number) => Math.max(-this.half, Math.min(this.half, Math.round(k)));
    return { i: clamp(from.i - (from.i / norm) * r), j: clamp(from.j - (from.j / norm) * r) };
  }

  /**
   * A short route from `from` to `to` as straight legs: along the streets with one or two turns,
   * or, when a diagonal avenue saves distance, to the avenue, along it, and off it again. Within
   * the bounding box of its ends and the avenue, so always inside the grid.
   */
  route(from: Node, to: Node, rng: Random): Leg[] {
    let best = manhattan(from, to);
    let via: [Node, Node] | undefined;
    for (const av of this.avenues) {
      // On the avenue, i = a and j = a - c (or c - a); enter or leave where a street of an end crosses it.
      const onAvenue = (a: number): Node => ({ i: a, j: av.anti ? av.c - a : a - av.c });
      // |a| and |a - c| (or |c - a|) within the grid.
      const lo = Math.max(-this.half, av.c - this.half);
      const hi = Math.min(this.half, av.c + this.half);
      const clamp = (a: number) => Math.max(lo, Math.min(hi, a));
      const entries = [from.i, av.anti ? av.c - from.j : from.j + av.c].map(clamp);
      const exits = [to.i, av.anti ? av.c - to.j : to.j + av.c].map(clamp);
      for (const a of entries) {
        for (const b of exits) {
          if (a === b) continue;
          const enter = onAvenue(a);
          const leave = onAvenue(b);
          const cost = manhattan(from, enter) + Math.abs(b - a) * AVENUE_STEP_COST + manhattan(leave, to);
          if (cost < best - 1e-9) {
            best = cost;
            via = [enter, leave];
          }
        }
      }
    }
    const legs: Leg[] = [];
    if (via) {
      const [enter, leave] = via;
      streetLegs(from, enter, rng, legs);
      const n = Math.abs(leave.i - enter.i);
      push(legs, Math.sign(leave.i - enter.i), Math.sign(leave.j - enter.j), n);
      streetLegs(leave, to, rng, legs);
    } else {
      streetLegs(from, to, rng, legs);
    }
    return legs;
  }
}

/** Blocks between two intersections along the streets. */
function manhattan(a: Node, b: Node): number {
  return Math.abs(a.i - b.i) + Math.abs(a.j - b.j);
}

/** Appends a leg, merging it into the previous one when they run the same way. */
function push(legs: Leg[], di: number, dj: number, n: number): void {
  if (n <= 0) return;
  const last = legs.at(-1);
  if (last && last.di === di && last.dj === dj) last.n += n;
  else legs.push({ di, dj, n });
}

/**
 * Appends a shortest street route from `a` to `b`: an L (one turn) or a Z (two turns, the first
 * axis split at a random street), starting along either axis.
 */
function streetLegs(a: Node, b: Node, rng: Random, legs: Leg[]): void {
  const di = b.i - a.i;
  const dj = b.j - a.j;
  const iFirst = rng.chance(0.5);
  const first = iFirst ? Math.abs(di) : Math.abs(dj);
  const split = rng.chance(0.5) ? first : rng.int(first + 1);
  const [fi, fj] = iFirst ? [Math.sign(di), 0] : [0, Math.sign(dj)];
  push(legs, fi, fj, split);
  if (iFirst) push(legs, 0, Math.sign(dj), Math.abs(dj));
  else push(legs, Math.sign(di), 0, Math.abs(di));
  push(legs, fi, fj, first - split);
}

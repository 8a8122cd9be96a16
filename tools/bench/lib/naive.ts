import v8 from "node:v8";
import vm from "node:vm";
import type { NearbyHit } from "../../../src/profiles/schemas";
import { haversineM } from "../../../src/profiles/tolerance";
import { generateProfiles } from "../../load/profiles";

/** A nearby query as the engines take it. */
export interface NearbyQuery {
  lat: number;
  lon: number;
  radiusM: number;
  limit: number;
}

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

/**
 * Memory after a full collection, in bytes: what live objects hold (JS heap plus typed-array
 * buffers) and the process's resident set size, which also counts freed pages V8 keeps.
 */
export function settledMemory(): { retained: number; rss: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { retained: m.heapUsed + m.external, rss: m.rss };
}

/**
 * Every row in process memory (ids plus two Float64Arrays) and a haversine scan of all of them per
 * query: the naive baseline, and the brute-force reference the engines are checked against. It
 * uses the same sphere as PostGIS (`haversineM`), so its distances are the ones to match.
 */
export class NaiveIndex {
  private constructor(
    readonly ids: string[],
    readonly lat: Float64Array,
    readonly lon: Float64Array,
  ) {}

  /** The rows a load of `count` rows with `seed` wrote, regenerated (no database read needed). */
  static generate(opts: { count: number; seed: number; city: string }): NaiveIndex {
    const ids: string[] = new Array(opts.count);
    const lat = new Float64Array(opts.count);
    const lon = new Float64Array(opts.count);
    for (const chunk of generateProfiles({ ...opts, chunkSize: 50_000 })) {
      lat.set(chunk.lat, chunk.start);
      lon.set(chunk.lon, chunk.start);
      for (let i = 0; i < chunk.ids.length; i++) ids[chunk.start + i] = chunk.ids[i] as string;
    }
    return new NaiveIndex(ids, lat, lon);
  }

  get size(): number {
    return this.ids.length;
  }

  /** The `limit` nearest rows within the radius, nearest first (ties broken by id, as any order is valid). */
  nearby(q: NearbyQuery): NearbyHit[] {
    // A sorted buffer of the best `limit` so far: insertion is cheap because it rarely happens.
    const bestD: number[] = [];
    const bestI: number[] = [];
    const { lat, lon } = this;
    for (let i = 0; i < lat.length; i++) {
      const d = haversineM(q.lat, q.lon, lat[i] as number, lon[i] as number);
      if (d > q.radiusM) continue;
      if (bestD.length === q.limit && d >= (bestD[q.limit - 1] as number)) continue;
      let j = bestD.length === q.limit ? q.limit - 1 : bestD.length;
      while (j > 0 && (bestD[j - 1] as number) > d) {
        bestD[j] = bestD[j - 1] as number;
        bestI[j] = bestI[j - 1] as number;
        j--;
      }
      bestD[j] = d;
      bestI[j] = i;
    }
    return bestI.map((i, n) => ({
      id: this.ids[i] as string,
      distance_m: bestD[n] as number,
      lat: lat[i] as number,
      lon: lon[i] as number,
    }));
  }

  /** Rows within `radiusM` of a point: a density probe (rows per km² = count / (π r²)). */
  countWithin(lat0: number, lon0: number, radiusM: number): number {
    let n = 0;
    for (let i = 0; i < this.lat.length; i++) {
      if (haversineM(lat0, lon0, this.lat[i] as number, this.lon[i] as number) <= radiusM) n++;
    }
    return n;
  }
}

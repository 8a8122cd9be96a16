import type { NearbyHit } from "../../../src/profiles/schemas";
import { compareNearby } from "../../../src/profiles/tolerance";
import { queryPoints } from "../../load/profiles";
import { Rng, rowSeed } from "../../load/random";
import type { NaiveIndex, NearbyQuery } from "./naive";
import type { Correctness } from "./nearby-report";

/** The radii the correctness pass mixes: a block, a neighbourhood, a district, a town. */
const RADII = [150, 500, 1000, 3000];
/** Reasons kept per engine; the count covers them all. */
const KEEP = 20;

/** An engine under test: answers a query, and is asked only about the first `sample` queries. */
export interface Candidate {
  engine: string;
  answer(q: NearbyQuery): Promise<NearbyHit[]>;
  sample?: number;
}

/**
 * Checks every candidate against brute force over the rows in memory (`compareNearby`'s
 * tolerance: Redis's geohash precision and Earth radius) on `count` seeded queries drawn from the
 * city's distribution, with radii from {@link RADII} and `limit` 20. Queries run one at a time,
 * each candidate's answer in parallel with the others'.
 */
export async function checkNearby(
  naive: NaiveIndex,
  candidates: Candidate[],
  opts: { city: string; seed: number; count: number },
): Promise<Correctness[]> {
  const points = queryPoints(opts.city, opts.seed, opts.count, 3);
  const rng = new Rng(0);
  const results = candidates.map((c) => ({
    engine: c.engine,
    queries: 0,
    failed: 0,
    failures: [] as string[],
  }));
  for (let i = 0; i < points.length; i++) {
    const [lat, lon] = points[i] as [number, number];
    const q = { lat, lon, radiusM: rng.reset(rowSeed(opts.seed, i, 4)).pick(RADII), limit: 20 };
    const expected = naive.nearby(q);
    await Promise.all(
      candidates.map(async (c, n) => {
        if (c.sample !== undefined && i >= c.sample) return;
        const r = results[n] as Correctness;
        r.queries++;
        let reason: string | undefined;
        try {
          reason = compareNearby(expected, await c.answer(q), q);
        } catch (error) {
          reason = `error: ${error instanceof Error ? error.message : String(error)}`;
        }
        if (reason === undefined) return;
        r.failed++;
        if (r.failures.length < KEEP)
          r.failures.push(`${reason} (lat ${lat}, lon ${lon}, radius ${q.radiusM} m)`);
      }),
    );
  }
  return results;
}

import { describe, expect, it } from "vitest";
import { blockArgs, cellPosition, DensityCache, densityRadius } from "../../src/profiles/density";
import { adaptiveSearch, decodeHits, nearbyRedisFullRadius, upstashGeo } from "../../src/profiles/geo-index";
import { decodeGeohash, redisDistance } from "../../src/profiles/geohash";
import { isolatedCentre, scatter, seeded } from "../support/geo";
import { uniqueId } from "../support/keys";
import { testRedis } from "../support/services";

describe("decoding Redis GEO hashes", () => {
  it("gives the coordinates and distances Redis itself reports", async () => {
    const redis = testRedis();
    const key = uniqueId("geohash");
    const random = seeded(99);
    const points = Array.from({ length: 200 }, (_, i) => ({
      longitude: -179.9 + random() * 359.8,
      latitude: -85 + random() * 170,
      member: `p${i}`,
    }));
    const [first, ...rest] = points;
    if (!first) throw new Error("no points");
    await redis.geoadd(key, first, ...rest);
    try {
      const q = { lon: 12.5, lat: 41.9 };
      const rows = await redis.eval<string[], [string, string, number, [string, string]][]>(
        "return redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[1], ARGV[2], 'BYRADIUS', 20000, 'km', 'ASC', 'WITHDIST', 'WITHHASH', 'WITHCOORD')",
        [key],
        [String(q.lon), String(q.lat)],
      );
      expect(rows.length).toBeGreaterThan(50);
      for (const [member, dist, hash, [lon, lat]] of rows) {
        const p = decodeGeohash(Number(hash));
        expect(p.lon, String(member)).toBeCloseTo(Number(lon), 9);
        expect(p.lat, String(member)).toBeCloseTo(Number(lat), 9);
        // Redis prints distances with 4 decimals (in km here).
        expect(redisDistance(q.lat, q.lon, p.lat, p.lon) / 1000).toBeCloseTo(Number(dist), 3);
      }
    } finally {
      await redis.del(key);
    }
  });

  it("counts the members of each cell of a block with one script call", async () => {
    const redis = testRedis();
    const key = uniqueId("geocells");
    const random = seeded(7);
    // A few thousand points around Madrid and a few far away, so the counts are not trivial.
    const points = Array.from({ length: 3000 }, (_, i) => ({
      longitude: -3.75 + (random() - 0.5) * 0.2,
      latitude: 40.42 + (random() - 0.5) * 0.2,
      member: `m${i}`,
    }));
    const [first, ...rest] = points;
    if (!first) throw new Error("no points");
    await redis.geoadd(key, first, ...rest);
    try {
      const geo = upstashGeo(redis);
      const blocks = new Set(points.slice(0, 25).map((p) => cellPosition(p.latitude, p.longitude).block));
      for (const block of blocks) {
        const counts = await geo.cellCounts(key, blockArgs(block));
        expect(counts).toHaveLength(64);
        const expected = new Array(64).fill(0);
        for (const p of points) {
          const at = cellPosition(p.latitude, p.longitude);
          if (at.block === block) expected[at.cell]++;
        }
        expect(counts).toEqual(expected);
        expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      }
    } finally {
      await redis.del(key);
    }
  });

  it("derives the start radius from the finest group of cells holding k members", () => {
    const at = { block: 0, cell: 5, cellAreaM2: 100_000 };
    const counts = new Array(64).fill(0);
    // The point's own cell holds 3, its 2 × 2 group 12, its 4 × 4 group 40.
    counts[5] = 3;
    for (const i of [4, 6, 7]) counts[i] = 3;
    for (let i = 0; i < 16; i++) if (i < 4 || i > 7) counts[i] = 28 / 12;
    expect(densityRadius(counts, at, 3, 1)).toBeCloseTo(Math.sqrt(100_000 / Math.PI), 6);
    expect(densityRadius(counts, at, 10, 1)).toBeCloseTo(Math.sqrt((10 * 4 * 100_000) / (Math.PI * 12)), 6);
    expect(densityRadius(counts, at, 20, 1)).toBeCloseTo(Math.sqrt((20 * 16 * 100_000) / (Math.PI * 40)), 6);
    expect(densityRadius(counts, at, 41, 1)).toBeUndefined();
    expect(densityRadius(counts, at, 3, 1.2)).toBeCloseTo(1.2 * Math.sqrt(100_000 / Math.PI), 6);
  });
});

describe("the adaptive search", () => {
  it("gives the full-radius answer whatever the cached density says", async () => {
    const redis = testRedis();
    const key = uniqueId("adaptive");
    const random = seeded(11);
    const centre = isolatedCentre(random);
    const points = scatter("a", centre, 400, 1500, random);
    const [first, ...rest] = points.map((p) => ({ longitude: p.lon, latitude: p.lat, member: p.id }));
    if (!first) throw new Error("no points");
    await redis.geoadd(key, first, ...rest);
    try {
      const geo = upstashGeo(redis);
      // Right counts, counts claiming an empty block (start small, widen) and counts claiming a
      // crowd everywhere (start tiny, widen several times): the answer must not change.
      const caches = {
        right: new DensityCache(),
        empty: new DensityCache(),
        crowded: new DensityCache(),
      };
      const fake = (n: number) => () => Promise.resolve(new Array(64).fill(n));
      for (let i = 0; i < 30; i++) {
        const p = points[Math.floor(random() * points.length)] as (typeof points)[number];
        const q = {
          lat: p.lat,
          lon: p.lon,
          radiusM: 200 + random() * 1500,
          limit: 1 + Math.floor(random() * 30),
        };
        const full = await nearbyRedisFullRadius(redis, key, q);
        const at = cellPosition(q.lat, q.lon);
        await caches.empty.counts(key, at.block, fake(0));
        await caches.crowded.counts(key, at.block, fake(1_000_000));
        for (const [name, cache] of Object.entries(caches)) {
          const answer = await adaptiveSearch(geo, key, q, cache);
          expect(
            decodeHits(answer.raw, q).map((h) => h.id),
            `${name} #${i}`,
          ).toEqual(full.map((h) => h.id));
          expect(answer.searchedRadiusM).toBeLessThanOrEqual(q.radiusM);
        }
      }
      expect(caches.right.misses).toBeGreaterThan(0);
    } finally {
      await redis.del(key);
    }
  });

  it("asks Redis for a block's counts once while they are fresh", async () => {
    const cache = new DensityCache(1000, 2);
    let loads = 0;
    const load = () => {
      loads++;
      return Promise.resolve([loads]);
    };
    expect(await cache.counts("k", 1, load, 0)).toEqual([1]);
    expect(await cache.counts("k", 1, load, 999)).toEqual([1]);
    expect(await cache.counts("k", 1, load, 1000)).toEqual([2]);
    // Two blocks at most: a third pushes out the oldest.
    await cache.counts("k", 2, load, 1000);
    await cache.counts("k", 3, load, 1000);
    expect(await cache.counts("k", 1, load, 1000)).toEqual([5]);
    expect(loads).toBe(5);
  });
});

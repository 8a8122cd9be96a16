import { describe, expect, it } from "vitest";
import { decodeGeohash, densityCells, redisDistance } from "../../src/profiles/geo-index";
import { seeded } from "../support/geo";
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

  it("names the score ranges of the cells that hold a point, as ZCOUNT counts them", async () => {
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
      for (const p of points.slice(0, 25)) {
        const score = Number(await redis.zscore(key, p.member));
        const cells = densityCells(p.latitude, p.longitude);
        expect(cells).toHaveLength(9);
        let previous = 0;
        for (let i = 0; i < cells.length; i += 3) {
          const [min, max, area] = cells.slice(i, i + 3).map(Number) as [number, number, number];
          // The point's own score lies in each of its cells, and coarser cells hold more.
          expect(score).toBeGreaterThanOrEqual(min);
          expect(score).toBeLessThan(max);
          const count = await redis.zcount(key, min, `(${max}`);
          const inside = points.filter((q) => {
            const c = densityCells(q.latitude, q.longitude);
            return c[i] === cells[i];
          }).length;
          expect(count).toBe(inside);
          expect(count).toBeGreaterThanOrEqual(previous);
          previous = count;
          expect(area).toBeGreaterThan(0);
        }
      }
    } finally {
      await redis.del(key);
    }
  });
});

import { describe, expect, it } from "vitest";
import { decodeGeohash, redisDistance } from "../../src/profiles/geo-index";
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
});

import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { NearbyHit } from "../../src/profiles/schemas";
import { compareNearby } from "../../src/profiles/tolerance";
import { bruteForce, isolatedCentre, type Point, scatter, seeded } from "../support/geo";
import { authHeaders, uniqueId } from "../support/keys";

const seed = Date.now() % 1_000_000;
const random = seeded(seed);
const centre = isolatedCentre(random);
const points: Point[] = scatter(uniqueId("near"), centre, 2500, 3000, random);

async function post(batch: Point[]) {
  const res = await exports.default.fetch("http://geoedge.test/v1/profiles", {
    method: "POST",
    headers: { ...authHeaders("ingest"), "content-type": "application/json" },
    body: JSON.stringify({ profiles: batch.map((p) => ({ id: p.id, name: p.id, lat: p.lat, lon: p.lon })) }),
  });
  expect(res.status).toBe(200);
}

async function nearby(query: Record<string, string | number>) {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
  return exports.default.fetch(`http://geoedge.test/v1/profiles/nearby?${qs}`, {
    headers: authHeaders("read"),
  });
}

beforeAll(async () => {
  for (let i = 0; i < points.length; i += 1000) await post(points.slice(i, i + 1000));
});

describe("GET /v1/profiles/nearby", () => {
  it(`answers like brute force through both engines (seed ${seed})`, async () => {
    for (let i = 0; i < 24; i++) {
      const [lat, lon] = [centre.lat + (random() - 0.5) * 0.04, centre.lon + (random() - 0.5) * 0.04];
      const radiusM = [150, 400, 1000, 2500][i % 4] as number;
      const limit = [1, 5, 20, 60][Math.floor(i / 4) % 4] as number;
      const expected = bruteForce(points, { lat, lon, radiusM, limit });
      for (const engine of ["redis", "postgis"] as const) {
        const res = await nearby({ lat, lon, radius_m: radiusM, limit, engine });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { engine: string; count: number; results: NearbyHit[] };
        expect(body.engine).toBe(engine);
        expect(body.count).toBe(body.results.length);
        const problem = compareNearby(expected, body.results, { radiusM, limit });
        expect(problem, `${engine} at ${lat},${lon} r=${radiusM} k=${limit}`).toBeUndefined();
      }
    }
  });

  it("searches much less than the whole radius when the area is dense", async () => {
    const res = await nearby({
      lat: centre.lat,
      lon: centre.lon,
      radius_m: 3000,
      limit: 10,
      engine: "redis",
    });
    const body = (await res.json()) as { results: NearbyHit[]; searched_radius_m: number; rounds: number };
    expect(body.results).toHaveLength(10);
    expect(body.searched_radius_m).toBeLessThan(1500);
    expect(body.rounds).toBeGreaterThanOrEqual(1);
  });

  it("returns fewer than limit when the radius holds fewer", async () => {
    const far = { lat: centre.lat + 0.2, lon: centre.lon };
    for (const engine of ["redis", "postgis"]) {
      const res = await nearby({ ...far, radius_m: 500, limit: 20, engine });
      expect(((await res.json()) as { count: number }).count).toBe(0);
    }
  });

  it("names the field and the rule for out-of-range input, with the caps in the message", async () => {
    const cases: [Record<string, string | number>, string, RegExp][] = [
      [{ lat: 88, lon: 0, radius_m: 100, engine: "redis" }, "query.lat", /85\.05112878/],
      [{ lat: 91, lon: 0, radius_m: 100 }, "query.lat", /<= 90/],
      [{ lat: 0, lon: 181, radius_m: 100 }, "query.lon", /<= 180/],
      [{ lat: 0, lon: 0, radius_m: 60_000 }, "query.radius_m", /50000/],
      [{ lat: 0, lon: 0, radius_m: 100, limit: 101 }, "query.limit", /100/],
      [{ lat: 0, lon: 0, radius_m: 100, engine: "mongo" }, "query.engine", /redis/],
      [{ lon: 0, radius_m: 100 }, "query.lat", /.+/],
    ];
    for (const [query, field, message] of cases) {
      const res = await nearby(query);
      expect(res.status, JSON.stringify(query)).toBe(400);
      const body = (await res.json()) as { errors: { field: string; message: string }[] };
      expect(body.errors[0]?.field).toBe(field);
      expect(body.errors[0]?.message).toMatch(message);
    }
  });

  it("returns ids that look like numbers exactly as stored", async () => {
    const spot = isolatedCentre(random);
    const ids = [String(Date.now() % 1_000_000_000_000), `1e${Date.now() % 1000}`];
    await post(ids.map((id, i) => ({ id, lat: spot.lat + i * 0.0001, lon: spot.lon })));
    for (const engine of ["redis", "postgis"]) {
      const res = await nearby({ lat: spot.lat, lon: spot.lon, radius_m: 50, limit: 5, engine });
      const body = (await res.json()) as { results: NearbyHit[] };
      expect(
        body.results.map((h) => h.id),
        engine,
      ).toEqual(ids);
    }
  });

  it("lets PostGIS answer beyond Redis's latitude limit", async () => {
    const res = await nearby({ lat: 88, lon: 0, radius_m: 100, engine: "postgis" });
    expect(res.status).toBe(200);
  });
});

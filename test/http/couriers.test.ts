import { env, exports } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { liveStateOf, publishLive } from "../../src/tracking/live";
import { insertPositions } from "../../src/tracking/repo";
import type { Fix } from "../../src/tracking/schemas";
import { isolatedCentre, seeded } from "../support/geo";
import { authHeaders, uniqueId } from "../support/keys";
import { testDb, testRedis } from "../support/services";

const db = testDb();
afterAll(() => db.close());

function get(path: string) {
  return exports.default.fetch(`http://geoedge.test/v1/couriers${path}`, { headers: authHeaders("read") });
}

describe("courier queries", () => {
  it("finds live couriers nearest first, by state, leaving out stale ones", async () => {
    const centre = isolatedCentre(seeded(Date.now() % 100_000));
    const now = Date.now();
    const staleAt = now - (Number(env.COURIER_STALE_AFTER_S) + 60) * 1000;
    const ids = Array.from({ length: 6 }, () => uniqueId("live"));
    const states = ["free", "to_pickup", "to_dropoff", "to_pickup", "free", "to_pickup"] as const;
    await publishLive(
      testRedis(),
      ids.map((id, i) =>
        liveStateOf(
          {
            courierId: id,
            recordedAt: now,
            lat: centre.lat + i * 0.001,
            lon: centre.lon,
            state: states[i],
            taskId: `t${i}`,
          },
          i === 3 ? staleAt : now,
        ),
      ),
    );
    const all = (await (await get(`/nearby?lat=${centre.lat}&lon=${centre.lon}&radius_m=2000`)).json()) as {
      results: { courier_id: string; distance_m: number; state: string }[];
    };
    expect(all.results.map((r) => r.courier_id)).toEqual([ids[0], ids[1], ids[2], ids[4], ids[5]]);
    expect(all.results[1]?.distance_m).toBeCloseTo(111, -1);

    const pickups = (await (
      await get(`/nearby?lat=${centre.lat}&lon=${centre.lon}&radius_m=2000&state=to_pickup&limit=1`)
    ).json()) as {
      results: { courier_id: string; task_id: string }[];
    };
    expect(pickups.results).toEqual([expect.objectContaining({ courier_id: ids[1], task_id: "t1" })]);

    // A courier that changes state leaves its old state's set.
    await publishLive(testRedis(), [
      liveStateOf(
        {
          courierId: ids[1] as string,
          recordedAt: now + 1,
          lat: centre.lat,
          lon: centre.lon,
          state: "to_dropoff",
        },
        now,
      ),
    ]);
    const after = (await (
      await get(`/nearby?lat=${centre.lat}&lon=${centre.lon}&radius_m=2000&state=to_pickup`)
    ).json()) as {
      results: { courier_id: string }[];
    };
    expect(after.results.map((r) => r.courier_id)).toEqual([ids[5]]);

    const active = (await (await get(`?limit=500`)).json()) as {
      couriers: { courier_id: string; state: string }[];
    };
    const mine = active.couriers.filter((c) => ids.includes(c.courier_id));
    expect(mine.map((c) => c.courier_id).sort()).toEqual([ids[1], ids[2], ids[5]].sort());
    expect(mine.every((c) => c.state === "to_pickup" || c.state === "to_dropoff")).toBe(true);
  });

  it("pages the list of couriers in one state", async () => {
    const now = Date.now();
    const prefix = uniqueId("page");
    const ids = Array.from({ length: 5 }, (_, i) => `${prefix}-${i}`);
    await publishLive(
      testRedis(),
      ids.map((id) =>
        liveStateOf({ courierId: id, recordedAt: now, lat: 10, lon: 10, state: "offline" }, now),
      ),
    );
    const seen: string[] = [];
    let after = "";
    for (let page = 0; page < 1000; page++) {
      const res = (await (await get(`?state=offline&limit=2${after ? `&after=${after}` : ""}`)).json()) as {
        couriers: { courier_id: string }[];
        next: string | null;
      };
      expect(res.couriers.length).toBeLessThanOrEqual(2);
      seen.push(...res.couriers.map((c) => c.courier_id));
      if (!res.next) break;
      after = res.next;
    }
    expect(seen.filter((id) => id.startsWith(prefix))).toEqual(ids);
  });

  it("draws a track as GeoJSON in time order, simplified when long", async () => {
    const courier = uniqueId("track");
    const t0 = Date.now() - 2 * 3600_000;
    const fixes: Fix[] = Array.from({ length: 5000 }, (_, i) => ({
      courierId: courier,
      recordedAt: t0 + i * 1000,
      lat: 40 + Math.sin(i / 200) * 0.01,
      lon: -3 + i * 0.00001,
    }));
    // Stored out of order: the line must still follow time.
    await insertPositions(db.db, [...fixes].reverse());
    const from = new Date(t0).toISOString();
    const to = new Date(t0 + 5000 * 1000).toISOString();
    const res = await get(`/${courier}/track?from=${from}&to=${to}`);
    expect(res.headers.get("content-type")).toBe("application/geo+json");
    const long = (await res.json()) as {
      geometry: { type: string; coordinates: number[][] };
      properties: { fixes: number; points: number; simplified: boolean };
    };
    expect(long.geometry.type).toBe("LineString");
    expect(long.properties).toMatchObject({ fixes: 5000, simplified: true });
    expect(long.properties.points).toBeLessThan(2500);
    expect(long.geometry.coordinates[0]?.[0]).toBeCloseTo(-3, 6);
    expect(long.geometry.coordinates.at(-1)?.[0]).toBeCloseTo(-3 + 4999 * 0.00001, 6);

    const shortTo = new Date(t0 + 9000).toISOString();
    const short = (await (await get(`/${courier}/track?from=${from}&to=${shortTo}`)).json()) as {
      geometry: { coordinates: number[][] };
      properties: { fixes: number; simplified: boolean };
    };
    expect(short.properties).toMatchObject({ fixes: 10, simplified: false });
    expect(short.geometry.coordinates.map((c) => c[0])).toEqual(fixes.slice(0, 10).map((f) => f.lon));

    const empty = (await (await get(`/${uniqueId("nobody")}/track`)).json()) as {
      geometry: unknown;
      properties: { fixes: number };
    };
    expect(empty).toMatchObject({ geometry: null, properties: { fixes: 0 } });

    const backwards = await get(`/${courier}/track?from=${to}&to=${from}`);
    expect(backwards.status).toBe(400);
    expect(((await backwards.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe("query.from");
  });
});

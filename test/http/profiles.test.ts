import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { redisKeys } from "../../src/redis/keys";
import { authHeaders, uniqueId } from "../support/keys";
import { testRedis } from "../support/services";

const base = "http://geoedge.test/v1/profiles";

function send(method: string, path: string, body?: unknown, scope: "ingest" | "read" | "admin" = "ingest") {
  return exports.default.fetch(`${base}${path}`, {
    method,
    headers: { ...authHeaders(scope), "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function indexed(id: string): Promise<boolean> {
  return (await testRedis().geopos(redisKeys.profiles(), id)).length === 1;
}

describe("profiles API", () => {
  it("creates, reads, changes and deletes a profile, keeping the Redis index in step", async () => {
    const id = uniqueId("shop");
    const created = await send("POST", "", {
      id,
      name: "Corner shop",
      lat: 40.4168,
      lon: -3.7038,
      attributes: { floor: 1 },
    });
    expect(created.status).toBe(200);
    expect(await created.json()).toMatchObject({
      id,
      name: "Corner shop",
      kind: "store",
      lat: 40.4168,
      lon: -3.7038,
    });
    expect(await indexed(id)).toBe(true);

    const read = await send("GET", `/${id}`, undefined, "read");
    expect(await read.json()).toMatchObject({ id, attributes: { floor: 1 } });

    const patched = await send("PATCH", `/${id}`, { name: "Big shop", lat: 40.42, lon: -3.7 });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({
      name: "Big shop",
      lat: 40.42,
      lon: -3.7,
      attributes: { floor: 1 },
    });
    const [pos] = await testRedis().geopos(redisKeys.profiles(), id);
    expect(Number(pos?.lat)).toBeCloseTo(40.42, 5);

    expect((await send("DELETE", `/${id}`)).status).toBe(204);
    expect((await send("GET", `/${id}`, undefined, "read")).status).toBe(404);
    expect(await indexed(id)).toBe(false);
    expect((await send("DELETE", `/${id}`)).status).toBe(404);
  });

  it("stores the good rows of a batch and names the bad ones by index, field and rule", async () => {
    const ok1 = uniqueId("p");
    const ok2 = uniqueId("p");
    const res = await send("POST", "", {
      profiles: [
        { id: ok1, name: "A", lat: 1, lon: 2 },
        { id: uniqueId("p"), name: "B", lat: 91, lon: 2 },
        { id: ok2, name: "C", lat: 1.5, lon: 2.5, kind: "restaurant" },
        { id: "bad id!", name: "D", lat: 1, lon: 2 },
      ],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      upserted: number;
      ids: string[];
      rejected: { index: number; errors: { field: string; rule: string }[] }[];
    };
    expect(body.upserted).toBe(2);
    expect(body.ids.sort()).toEqual([ok1, ok2].sort());
    expect(body.rejected.map((r) => r.index)).toEqual([1, 3]);
    expect(body.rejected[0]?.errors[0]).toMatchObject({ field: "body.profiles.1.lat", rule: "too_big" });
    expect(body.rejected[1]?.errors[0]).toMatchObject({ field: "body.profiles.3.id" });
    expect((await send("GET", `/${ok2}`, undefined, "read")).status).toBe(200);
  });

  it("refuses a batch with no valid row, an oversized batch, and a write without the ingest scope", async () => {
    const none = await send("POST", "", { profiles: [{ id: "x", name: "", lat: 0, lon: 0 }] });
    expect(none.status).toBe(400);
    expect(((await none.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe(
      "body.profiles.0.name",
    );

    const big = await send("POST", "", {
      profiles: Array.from({ length: 1001 }, (_, i) => ({ id: `b${i}` })),
    });
    expect(big.status).toBe(400);
    expect(((await big.json()) as { detail: string }).detail).toContain("at most 1000");

    const forbidden = await send("POST", "", { id: uniqueId("p"), name: "A", lat: 1, lon: 2 }, "read");
    expect(forbidden.status).toBe(403);
  });

  it("rejects a patch that moves only one coordinate", async () => {
    const id = uniqueId("p");
    await send("POST", "", { id, name: "A", lat: 1, lon: 2 });
    const res = await send("PATCH", `/${id}`, { lat: 3 });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { field: string; message: string }[] }).errors[0]).toMatchObject({
      field: "body.lat",
      message: "lat and lon must be given together",
    });
  });
});

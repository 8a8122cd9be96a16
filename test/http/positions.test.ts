import { runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { objectNames } from "../../src/objects/names";
import { authHeaders, uniqueId } from "../support/keys";
import { testDb } from "../support/services";

const db = testDb();
afterAll(() => db.close());

function post(body: string, type = "application/json") {
  return exports.default.fetch("http://geoedge.test/v1/positions", {
    method: "POST",
    headers: { ...authHeaders("ingest"), "content-type": type },
    body,
  });
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await scheduler.wait(50);
  }
}

describe("POST /v1/positions", () => {
  it("queues the good fixes of a JSON batch and names the bad ones; every fix lands in Postgres once", async () => {
    const courier = uniqueId("c");
    const t0 = Date.now() - 60_000;
    const fixes = [
      {
        courier_id: courier,
        recorded_at: t0,
        lat: 40.41,
        lon: -3.7,
        speed_mps: 4.2,
        state: "to_pickup",
        task_id: "t1",
      },
      { courier_id: courier, recorded_at: new Date(t0 + 1000).toISOString(), lat: 40.411, lon: -3.7 },
      { courier_id: courier, recorded_at: t0 + 2000, lat: 95, lon: -3.7 },
      { courier_id: courier, recorded_at: t0 + 1000, lat: 40.411, lon: -3.7 },
      { recorded_at: t0, lat: 1, lon: 1 },
    ];
    const res = await post(JSON.stringify({ fixes }));
    expect(res.status).toBe(202);
    const body = (await res.json()) as {
      accepted: number;
      rejected_count: number;
      rejected: { index: number; errors: { field: string; rule: string }[] }[];
    };
    expect(body.accepted).toBe(3);
    expect(body.rejected_count).toBe(2);
    expect(body.rejected.map((r) => r.index)).toEqual([2, 4]);
    expect(body.rejected[0]?.errors[0]).toMatchObject({ field: "fixes.2.lat", rule: "too_big" });
    expect(body.rejected[1]?.errors[0]).toMatchObject({ field: "fixes.4.courier_id" });

    // Queue → consumer → the courier's object (the duplicate inside the batch is dropped there).
    const track = env.COURIER_TRACK.getByName(objectNames.courierTrack(courier));
    await until(
      async () => ((await track.pending()) === 2 ? true : undefined),
      "the fixes to reach the object",
    );
    expect((await track.state())?.recordedAt).toBe(t0 + 1000);

    await runDurableObjectAlarm(track);
    const rows = await db.db.execute<{ n: string }>(
      sql`select count(*)::text as n from courier_positions where courier_id = ${courier}`,
    );
    expect(rows.rows[0]?.n).toBe("2");
  });

  it("takes NDJSON and reports bad lines by number", async () => {
    const courier = uniqueId("c");
    const now = Date.now();
    const lines = [
      JSON.stringify({ courier_id: courier, recorded_at: now - 2000, lat: 51.5, lon: -0.1 }),
      "{broken",
      JSON.stringify({ courier_id: courier, recorded_at: now - 1000, lat: 51.5, lon: 200 }),
      JSON.stringify({ courier_id: courier, recorded_at: now - 500, lat: 51.5, lon: -0.1 }),
    ].join("\n");
    const res = await post(lines, "application/x-ndjson");
    expect(res.status, await res.clone().text()).toBe(202);
    const body = (await res.json()) as {
      accepted: number;
      rejected: { line: number; errors: { field: string }[] }[];
    };
    expect(body.accepted).toBe(2);
    expect(body.rejected.map((r) => r.line)).toEqual([2, 3]);
    expect(body.rejected[1]?.errors[0]?.field).toBe("line.3.lon");
  });

  it("answers 400 when nothing is valid, 415 for other media types, 403 without the ingest scope", async () => {
    const none = await post(JSON.stringify({ fixes: [{ courier_id: "x" }] }));
    expect(none.status).toBe(400);
    expect(((await none.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe(
      "fixes.0.recorded_at",
    );

    expect((await post("a,b", "text/csv")).status).toBe(415);

    const forbidden = await exports.default.fetch("http://geoedge.test/v1/positions", {
      method: "POST",
      headers: { ...authHeaders("read"), "content-type": "application/json" },
      body: JSON.stringify({ fixes: [] }),
    });
    expect(forbidden.status).toBe(403);
  });
});

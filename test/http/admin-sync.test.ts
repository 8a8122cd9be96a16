import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { upsertProfiles } from "../../src/profiles/repo";
import { redisKeys } from "../../src/redis/keys";
import { authHeaders, uniqueId } from "../support/keys";
import { testDb, testRedis } from "../support/services";

const url = "http://geoedge.test/v1/admin/sync/profiles";

describe("/v1/admin/sync/profiles", () => {
  it("runs the incremental sync on demand and reports watermark, lag and counts", async () => {
    const db = testDb();
    const id = uniqueId("admin-sync");
    try {
      await upsertProfiles(db.db, [{ id, name: id, kind: "store", lat: -45.5, lon: 170.5, attributes: {} }]);
    } finally {
      await db.close();
    }
    const res = await exports.default.fetch(url, {
      method: "POST",
      headers: { ...authHeaders("admin"), "content-type": "application/json" },
      body: JSON.stringify({}),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      run: { applied: number; error?: string; skipped?: string };
      status: { watermark: string; lag_ms: number; counts: { postgres_live: number; redis_indexed: number } };
    };
    if (!body.run.skipped) expect(body.run.error).toBeUndefined();
    expect(body.status.watermark).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(body.status.counts.postgres_live).toBeGreaterThan(0);
    expect(body.status.counts.redis_indexed).toBeGreaterThan(0);
    if (!body.run.skipped) expect((await testRedis().geopos(redisKeys.profiles(), id)).length).toBe(1);

    const status = await exports.default.fetch(url, { headers: authHeaders("admin") });
    expect(status.status).toBe(200);
    expect(((await status.json()) as { last_run_at: string | null }).last_run_at).not.toBeNull();
  });

  it("is for admin keys only, and validates the body", async () => {
    expect((await exports.default.fetch(url, { headers: authHeaders("read") })).status).toBe(403);
    const bad = await exports.default.fetch(url, {
      method: "POST",
      headers: { ...authHeaders("admin"), "content-type": "application/json" },
      body: JSON.stringify({ full: "yes" }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe("body.full");
  });
});

import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { authHeaders, uniqueId } from "../support/keys";

function call(method: string, path: string, body?: unknown, scope: "ingest" | "read" | "admin" = "ingest") {
  return exports.default.fetch(`http://geoedge.test/v1${path}`, {
    method,
    headers: { ...authHeaders(scope), "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe("sellers and scans over HTTP", () => {
  it("creates a seller with a secret shown once, and rotates it on request", async () => {
    const id = uniqueId("seller");
    const created = await call(
      "PUT",
      `/sellers/${id}`,
      { webhook_url: "https://hooks.example.com/x", quiet_period_s: 120 },
      "admin",
    );
    expect(created.status).toBe(201);
    const first = (await created.json()) as {
      signing_secret: string;
      quiet_period_s: number;
      max_wait_s: null;
    };
    expect(first.signing_secret).toMatch(/^whsec_[0-9a-f]{64}$/);
    expect(first).toMatchObject({ quiet_period_s: 120, max_wait_s: null });

    const updated = await call(
      "PUT",
      `/sellers/${id}`,
      { webhook_url: null, quiet_period_s: 60, max_wait_s: 600 },
      "admin",
    );
    expect(updated.status).toBe(200);
    const second = (await updated.json()) as Record<string, unknown>;
    expect(second.signing_secret).toBeUndefined();
    expect(second).toMatchObject({ webhook_url: null, quiet_period_s: 60, max_wait_s: 600 });

    const rotated = (await (
      await call("PUT", `/sellers/${id}`, { rotate_secret: true }, "admin")
    ).json()) as {
      signing_secret: string;
    };
    expect(rotated.signing_secret).toMatch(/^whsec_/);
    expect(rotated.signing_secret).not.toBe(first.signing_secret);
  });

  it("validates seller settings and needs the admin scope", async () => {
    const bad = await call(
      "PUT",
      `/sellers/${uniqueId("s")}`,
      { webhook_url: "ftp://x", quiet_period_s: 0 },
      "admin",
    );
    expect(bad.status).toBe(400);
    const fields = ((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(["body.webhook_url", "body.quiet_period_s"]));
    expect((await call("PUT", `/sellers/${uniqueId("s")}`, {}, "ingest")).status).toBe(403);
  });

  it("records scans, lists a repeated package once and shows when the notification is due", async () => {
    const id = uniqueId("seller");
    await call("PUT", `/sellers/${id}`, { quiet_period_s: 3600 }, "admin");
    const t0 = Date.now() - 60_000;
    const res = await call("POST", "/scans", {
      scans: [
        { seller_id: id, package_id: "AAAAAA", scanned_at: t0 },
        { seller_id: id, package_id: "BBBBBB", scanned_at: new Date(t0 + 1000).toISOString() },
        { seller_id: id, package_id: "AAAAAA", scanned_at: t0 + 2000 },
        { seller_id: id, package_id: "bad id", scanned_at: t0 },
        { seller_id: id, package_id: "CCCCCC", scanned_at: Date.now() + 3600_000 },
      ],
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as {
      accepted: number;
      rejected: { index: number; errors: { field: string; rule: string }[] }[];
      sellers: { seller_id: string; pending: number; due_at: string }[];
    };
    expect(body.accepted).toBe(3);
    expect(body.rejected.map((r) => [r.index, r.errors[0]?.field])).toEqual([
      [3, "body.scans.3.package_id"],
      [4, "body.scans.4.scanned_at"],
    ]);
    expect(body.sellers).toEqual([
      { seller_id: id, pending: 2, due_at: new Date(t0 + 2000 + 3600_000).toISOString() },
    ]);

    const pending = (await (await call("GET", `/sellers/${id}/pending`, undefined, "read")).json()) as {
      package_ids: string[];
      due_at: string;
    };
    expect(pending.package_ids).toEqual(["AAAAAA", "BBBBBB"]);
    expect(pending.due_at).toBe(new Date(t0 + 2000 + 3600_000).toISOString());

    const history = (await (await call("GET", `/sellers/${id}/notifications`, undefined, "read")).json()) as {
      notifications: unknown[];
    };
    expect(history.notifications).toEqual([]);
  });

  it("takes a single scan and answers 400 when nothing is valid", async () => {
    const ok = await call("POST", "/scans", { seller_id: uniqueId("s"), package_id: "ZZZZZZ" });
    expect(ok.status).toBe(202);
    const none = await call("POST", "/scans", { seller_id: "x", package_id: "" });
    expect(none.status).toBe(400);
    expect(((await none.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe("body.package_id");
  });
});

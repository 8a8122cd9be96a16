import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("GET /health", () => {
  it("reports Redis and Postgres up with their latency", async () => {
    const res = await exports.default.fetch("http://geoedge.test/health");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const body = (await res.json()) as {
      status: string;
      checks: Record<string, { status: string; latency_ms: number; version?: string }>;
    };
    expect(body.status).toBe("up");
    expect(body.checks.redis?.status).toBe("up");
    expect(body.checks.postgres?.status).toBe("up");
    expect(body.checks.postgres?.version).toMatch(/^postgis 3\./);
    expect(body.checks.redis?.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it("keeps a well-formed caller request id", async () => {
    const res = await exports.default.fetch("http://geoedge.test/health", {
      headers: { "x-request-id": "trace-0123456789" },
    });
    expect(res.headers.get("x-request-id")).toBe("trace-0123456789");
  });
});

import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../workers/http/app";

// The same app with one dependency pointed at a port where nothing listens: the Worker must say
// which one is down instead of hanging or answering 500.
async function healthWith(overrides: Partial<Env>) {
  const ctx = createExecutionContext();
  const res = await createApp().fetch(
    new Request("http://geoedge.test/health"),
    { ...env, ...overrides },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return {
    res,
    body: (await res.json()) as {
      status: string;
      checks: Record<string, { status: string; error?: string }>;
    },
  };
}

describe("GET /health with a dependency down", () => {
  it("answers 503 naming Redis when Redis is unreachable", async () => {
    const { res, body } = await healthWith({ UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9" });
    expect(res.status).toBe(503);
    expect(body.status).toBe("down");
    expect(body.checks.redis?.status).toBe("down");
    expect(body.checks.redis?.error).toBeTruthy();
    expect(body.checks.postgres?.status).toBe("up");
  });

  it("answers 503 naming Postgres when Postgres is unreachable", async () => {
    const { res, body } = await healthWith({ DATABASE_URL: "postgres://postgres@127.0.0.1:9/geoedge_test" });
    expect(res.status).toBe(503);
    expect(body.checks.postgres?.status).toBe("down");
    expect(body.checks.redis?.status).toBe("up");
  });
});

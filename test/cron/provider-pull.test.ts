import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseFeed } from "../../src/events/feed";
import { pullProvider, SEARCH_FRESH_MS } from "../../src/events/service";
import { createLogger } from "../../src/log";
import { databaseScope, redisKeys } from "../../src/redis/keys";
import worker from "../../workers/index";
import { authHeaders } from "../support/keys";
import { testDb, testRedis } from "../support/services";

const db = testDb();
const deps = {
  db: db.db,
  redis: testRedis(),
  log: createLogger("error"),
  scope: databaseScope(env.DATABASE_URL),
};
const provider = env.TEST_PROVIDER_URL;
const sample = (name: string) => ({
  url: `${provider}/samples/fever-provider-sample-${name}.xml`,
  timeoutMs: 5000,
});

interface Event {
  id: string;
  title: string;
  start_date: string;
  start_time: string;
  end_date: string;
  end_time: string;
  min_price: number;
  max_price: number;
}

async function search(
  query = "",
): Promise<{ status: number; cache: string | null; events: Event[]; body: unknown }> {
  const res = await exports.default.fetch(`http://geoedge.test/search${query}`);
  const body = (await res.json()) as { data: { events: Event[] } | null };
  return { status: res.status, cache: res.headers.get("x-cache"), events: body.data?.events ?? [], body };
}

/** Waits until every answer this isolate keeps must be confirmed with Redis again. */
const pastFreshness = () => new Promise((resolve) => setTimeout(resolve, SEARCH_FRESH_MS + 50));

const summary = (events: Event[]) =>
  events.map(
    (e) =>
      `${e.title}|${e.start_date} ${e.start_time}-${e.end_date} ${e.end_time}|${e.min_price}-${e.max_price}`,
  );

// This file owns the events table: it starts from an empty catalogue.
beforeAll(async () => {
  await db.db.execute(sql`DELETE FROM events`);
  await deps.redis.incr(redisKeys.searchGeneration(deps.scope));
});
afterAll(() => db.close());

describe("event catalogue from the provider feed", () => {
  it("keeps every event ever sold online searchable across consecutive feeds, with the latest prices and dates", async () => {
    expect((await pullProvider(deps, sample("eventList-response1"))).status).toBe("ok");
    expect(summary((await search()).events)).toEqual([
      "Pantomima Full|2021-02-10 20:00:00-2021-02-10 21:30:00|55-55",
      "Camela en concierto|2021-06-30 21:00:00-2021-06-30 22:00:00|15-30",
      "Los Morancos|2021-07-31 20:00:00-2021-07-31 21:00:00|65-75",
    ]);

    // Response 2 drops Pantomima Full, changes an end time, and adds an offline plan with 31 September.
    const second = await pullProvider(deps, sample("eventList-response2"));
    expect(second).toMatchObject({ status: "ok", eventsSeen: 2, skipped: 1 });
    await pastFreshness();
    const after2 = await search();
    expect(summary(after2.events)).toEqual([
      "Pantomima Full|2021-02-10 20:00:00-2021-02-10 21:30:00|55-55",
      "Camela en concierto|2021-06-30 21:00:00-2021-06-30 22:00:00|15-30",
      "Los Morancos|2021-07-31 20:00:00-2021-07-31 21:20:00|65-75",
    ]);

    await pullProvider(deps, sample("eventList-response3"));
    const planList = await pullProvider(deps, sample("planList-response1"));
    expect(planList).toMatchObject({ status: "ok", eventsSeen: 4 });
    await pastFreshness();
    const all = await search();
    expect(summary(all.events)).toEqual([
      "Pantomima Full|2021-02-10 20:00:00-2021-02-10 21:30:00|55-55",
      "Pantomima Full|2021-02-11 20:00:00-2021-02-11 21:30:00|55-55",
      "Camela en concierto|2021-06-30 21:00:00-2021-06-30 22:00:00|15-30",
      "Los Morancos|2021-07-31 20:00:00-2021-07-31 21:00:00|65-75",
    ]);
    // Plan 1642 under base events 322 and 1591 are two events, each with its own stable UUID.
    const ids = all.events.map((e) => e.id);
    expect(new Set(ids).size).toBe(4);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ids).toEqual(
      after2.events
        .slice(0, 1)
        .map((e) => e.id)
        .concat(ids.slice(1)),
    );
  });

  it("filters by start and end as the contract says, and rejects bad parameters in its error shape", async () => {
    const june = await search("?starts_at=2021-06-01T00:00:00Z&ends_at=2021-07-31T21:00:00Z");
    expect(june.events.map((e) => e.title)).toEqual(["Camela en concierto", "Los Morancos"]);
    expect((await search("?ends_at=2021-02-10T21:30:00")).events.map((e) => e.start_date)).toEqual([
      "2021-02-10",
    ]);

    const bad = await search("?starts_at=yesterday");
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({
      data: null,
      error: { code: "invalid_parameter", message: expect.stringContaining("starts_at") },
    });
    expect((await search("?ends_at=2021-02-30T10:00:00Z")).status).toBe(400);
  });

  it("serves repeated searches from the cache and drops the cache when the feed changes an answer", async () => {
    const june = "?starts_at=2021-06-01T00:00:00&ends_at=2021-06-30T23:59:59";
    const july = "?starts_at=2021-07-01T00:00:00&ends_at=2021-07-31T23:59:59";
    for (const query of [june, july]) await search(query);
    await search("?starts_at=2021-01-01T00:00:00");
    const again = await search("?starts_at=2021-01-01T00:00:00");
    expect(again.cache).toBe("hit");
    // Same feed again: nothing a search sees changed, the cache stays.
    await pullProvider(deps, sample("planList-response1"));
    expect((await search("?starts_at=2021-01-01T00:00:00")).cache).toBe("hit");
    // A feed that changes an end time moves the cache on: visible once the isolate's copy is
    // older than the bound it is served without asking Redis.
    await pullProvider(deps, sample("eventList-response2"));
    await pastFreshness();
    const changed = await search("?starts_at=2021-01-01T00:00:00");
    expect(changed.cache).toBe("miss");
    expect(summary(changed.events)).toContain("Los Morancos|2021-07-31 20:00:00-2021-07-31 21:20:00|65-75");
    // A search of a few months depends on those months only: June's answer survives July's change.
    const julyAfter = await search(july);
    expect([julyAfter.cache, ...summary(julyAfter.events)]).toEqual([
      "miss",
      "Los Morancos|2021-07-31 20:00:00-2021-07-31 21:20:00|65-75",
    ]);
    const juneAfter = await search(june);
    expect([juneAfter.cache, ...summary(juneAfter.events)]).toEqual([
      "hit",
      "Camela en concierto|2021-06-30 21:00:00-2021-06-30 22:00:00|15-30",
    ]);
  });

  it("answers a client that accepts gzip with the identity answer's exact bytes, gzip-compressed", async () => {
    const path = "http://geoedge.test/search?starts_at=2021-01-01T00:00:00";
    const identity = await exports.default.fetch(path);
    expect(identity.headers.get("content-encoding")).toBeNull();
    const plain = new Uint8Array(await identity.arrayBuffer());
    expect(plain.byteLength).toBeGreaterThan(100);
    // The Worker's own Response, as the runtime would send it (a fetch through the binding would
    // hand back the body decoded). The first compresses the kept answer; the second gets that copy.
    for (let i = 0; i < 2; i++) {
      const ctx = createExecutionContext();
      const request = new Request(path, { headers: { "accept-encoding": "gzip, deflate, br" } });
      const res = await worker.fetch(request as Parameters<typeof worker.fetch>[0], env, ctx);
      await waitOnExecutionContext(ctx);
      expect([res.status, res.headers.get("content-encoding"), res.headers.get("x-cache")]).toEqual([
        200,
        "gzip",
        "hit",
      ]);
      expect(res.headers.get("x-request-id")).toBeTruthy();
      const body = res.body?.pipeThrough(new DecompressionStream("gzip"));
      expect(new Uint8Array(await new Response(body).arrayBuffer())).toEqual(plain);
    }
    const refused = await exports.default.fetch(path, { headers: { "accept-encoding": "gzip;q=0, br" } });
    expect(refused.headers.get("content-encoding")).toBeNull();
    expect(new Uint8Array(await refused.arrayBuffer())).toEqual(plain);
  });

  it("follows the visitor's Accept-Encoding, not the one the edge rewrites to 'br, gzip'", async () => {
    const path = "http://geoedge.test/search?starts_at=2021-01-01T00:00:00";
    // What Cloudflare's edge and Miniflare hand the Worker: their own header, the visitor's in `cf`.
    const asSeen = (visitor: string) =>
      new Request(path, {
        headers: { "accept-encoding": "br, gzip" },
        cf: { clientAcceptEncoding: visitor },
      });
    for (const [visitor, encoding] of [
      ["", null],
      ["identity", null],
      ["gzip, deflate", "gzip"],
    ] as const) {
      const ctx = createExecutionContext();
      const res = await worker.fetch(asSeen(visitor) as Parameters<typeof worker.fetch>[0], env, ctx);
      await waitOnExecutionContext(ctx);
      expect([visitor, res.headers.get("content-encoding")]).toEqual([visitor, encoding]);
      await res.body?.cancel();
    }
  });

  it("changes nothing on a malformed or truncated feed, and records why", async () => {
    const before = await search();
    const result = await pullProvider(deps, sample("malformed"));
    expect(result.status).toBe("invalid_feed");
    expect((await search()).events).toEqual(before.events);
    await expect(
      parseFeed(['<planList><output><base_plan base_plan_id="1" sell_mode="online" title="x">']),
    ).rejects.toThrow(/malformed/);
  });

  it("names the database, not the provider, when the feed arrives but Postgres is unreachable", async () => {
    const { createDb } = await import("../../src/db/client");
    const dead = createDb({
      databaseUrl: "postgres://postgres@127.0.0.1:9/none",
      neonLocalProxy: env.NEON_LOCAL_PROXY,
    });
    const result = await pullProvider({ ...deps, db: dead.db }, sample("eventList-response1"));
    await dead.close().catch(() => {});
    expect(result.status).toBe("database_error");
    expect(result.error).toBeTruthy();
  });

  it("never lists events that were never sold online", async () => {
    const result = await pullProvider(deps, {
      url: `${provider}/generated?events=30&zones=5`,
      timeoutMs: 5000,
    });
    expect(result).toMatchObject({ status: "ok", eventsSeen: 30 });
    const titles = (await search("?starts_at=2027-01-01T00:00:00")).events.map((e) => e.title);
    expect(titles).toHaveLength(27);
    for (const offline of [0, 10, 20]) expect(titles).not.toContain(`Generated event ${offline}`);
  });

  it("keeps /search answering while the provider fails or hangs, and reports the failure", async () => {
    await pastFreshness();
    const before = await search();
    await fetch(`${provider}/__mode?mode=error`, { method: "POST" });
    try {
      expect((await pullProvider(deps, { url: `${provider}/api/events`, timeoutMs: 5000 })).status).toBe(
        "provider_error",
      );
      await fetch(`${provider}/__mode?mode=slow&delay_ms=3000`, { method: "POST" });
      const slow = await pullProvider(deps, { url: `${provider}/api/events`, timeoutMs: 200 });
      expect(slow.status).toBe("provider_error");
      expect(slow.durationMs).toBeLessThan(2000);
      const during = await search();
      expect(during.status).toBe(200);
      expect(during.events).toEqual(before.events);
    } finally {
      await fetch(`${provider}/__mode?mode=ok`, { method: "POST" });
    }
    const status = (await (
      await exports.default.fetch("http://geoedge.test/v1/admin/provider", { headers: authHeaders("admin") })
    ).json()) as { status: string; last_error: string; last_success_at: string | null };
    expect(status.status).toBe("provider_error");
    expect(status.last_error).toBeTruthy();
    expect(status.last_success_at).not.toBeNull();
  });

  it("runs from the every-minute cron without throwing when the provider is unreachable", async () => {
    const ctx = createExecutionContext();
    const controller = createScheduledController({ cron: "* * * * *" });
    await worker.scheduled(controller, { ...env, PROVIDER_URL: "http://127.0.0.1:9/api/events" }, ctx);
    await waitOnExecutionContext(ctx);
    expect((await search()).status).toBe(200);
    // A refused connection is the provider's failure, not the database's.
    const status = (await (
      await exports.default.fetch("http://geoedge.test/v1/admin/provider", { headers: authHeaders("admin") })
    ).json()) as { status: string; last_error: string };
    expect(status.status).toBe("provider_error");
    expect(status.last_error).toBeTruthy();
  });
});

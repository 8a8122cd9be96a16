import { afterAll, describe, expect, it } from "vitest";
import { AnswerMemory } from "../../src/events/answers";
import { SEARCH_FRESH_MS, type SearchDeps, searchCatalogue } from "../../src/events/service";
import { createLogger } from "../../src/log";
import type { Redis } from "../../src/redis/client";
import { databaseScope, redisKeys } from "../../src/redis/keys";
import { uniqueId } from "../support/keys";
import { testDb, testRedis } from "../support/services";

const redis = testRedis();
const db = testDb();
const written: string[] = [];
afterAll(async () => {
  if (written.length) await redis.del(...written);
  await db.close();
});

/** Stores an answer for `from` under `generation` of `scope`, as a search that missed would. */
async function storeAnswer(scope: string, generation: number, from: string, body: string): Promise<void> {
  const key = `${redisKeys.searchCachePrefix(scope)}${generation}:${from}|`;
  written.push(key);
  await redis.set(key, `b:${body}`, { ex: 60 });
}

/** Sets the generation of `scope`, as a pull that changed the catalogue would move it on. */
async function setGeneration(scope: string, generation: number): Promise<void> {
  const key = redisKeys.searchGeneration(scope);
  written.push(key);
  await redis.set(key, String(generation), { ex: 60 });
}

/**
 * Deps whose clock the test sets, which record every lookup's reply, and whose database must not
 * be needed: every answer in these tests comes from a cache.
 */
function deps(scope: string) {
  const clock = { now: 1_000_000 };
  const replies: unknown[][] = [];
  const recording = {
    eval: async (...args: Parameters<Redis["eval"]>) => {
      const reply = (await redis.eval(...args)) as unknown[];
      replies.push(reply);
      return reply;
    },
    set: redis.set.bind(redis),
  } as unknown as Redis;
  const d: SearchDeps = {
    db: () => {
      throw new Error("the database was opened for an answer the caches hold");
    },
    redis: () => recording,
    log: createLogger("error"),
    scope,
    now: () => clock.now,
  };
  return { deps: d, clock, replies };
}

const FROM = "2031-05-01T00:00:00";
const text = (body: Uint8Array) => new TextDecoder().decode(body);
const eventsOf = (body: Uint8Array) =>
  (JSON.parse(text(body)) as { data: { events: { title: string }[] } }).data.events;
const gunzip = async (body: Uint8Array) =>
  new Uint8Array(
    await new Response(new Blob([body]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer(),
  );
const answer = (title: string) => JSON.stringify({ data: { events: [{ title }] }, error: null });

describe("search answers kept in the isolate", () => {
  it("serves its copy without Redis within the bound, and the new generation's answer after it", async () => {
    const scope = uniqueId("scope");
    await setGeneration(scope, 7);
    await storeAnswer(scope, 7, FROM, answer("before"));
    const { deps: d, clock, replies } = deps(scope);
    const start = clock.now;

    const first = await searchCatalogue(d, FROM, null);
    expect([first.cache, eventsOf(first.body)[0]?.title]).toEqual(["hit", "before"]);
    expect(replies).toHaveLength(1);

    clock.now = start + SEARCH_FRESH_MS - 1;
    expect(eventsOf((await searchCatalogue(d, FROM, null)).body)[0]?.title).toBe("before");
    expect(replies).toHaveLength(1);

    // A pull changes the catalogue: the answer of generation 8 differs.
    await storeAnswer(scope, 8, FROM, answer("after"));
    await setGeneration(scope, 8);
    // Within the bound the isolate's copy may still be served: that is the staleness allowed.
    expect(eventsOf((await searchCatalogue(d, FROM, null)).body)[0]?.title).toBe("before");
    expect(replies).toHaveLength(1);

    clock.now = start + SEARCH_FRESH_MS;
    const after = await searchCatalogue(d, FROM, null);
    expect([after.cache, eventsOf(after.body)[0]?.title]).toEqual(["hit", "after"]);
    expect(replies).toHaveLength(2);
    expect(replies[1]).toEqual([8, `b:${answer("after")}`]);

    // Confirmed again once the bound passes: Redis sends the generation only, not the answer again.
    clock.now = start + 2 * SEARCH_FRESH_MS;
    expect(eventsOf((await searchCatalogue(d, FROM, null)).body)[0]?.title).toBe("after");
    expect(replies).toHaveLength(3);
    expect(replies[2]).toEqual([8]);
  });

  it("reads an answer from Postgres once when several requests miss it together", async () => {
    const scope = uniqueId("scope");
    written.push(
      redisKeys.searchGeneration(scope),
      `${redisKeys.searchCachePrefix(scope)}0:2099-01-01T00:00:00|`,
    );
    let opened = 0;
    const d: SearchDeps = {
      ...deps(scope).deps,
      db: () => {
        opened++;
        return db.db;
      },
    };
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => searchCatalogue(d, "2099-01-01T00:00:00", null)),
    );
    expect(opened).toBe(1);
    expect(answers.map((a) => a.cache).sort()).toEqual(["hit", "hit", "hit", "hit", "miss"]);
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
  });
});

describe("gzip answers", () => {
  it("gives a client that accepts gzip the identity answer's exact bytes, compressed once", async () => {
    const scope = uniqueId("scope");
    await setGeneration(scope, 4);
    const body = JSON.stringify({
      data: { events: Array.from({ length: 200 }, (_, i) => ({ title: `Concierto ñ ${i}` })) },
      error: null,
    });
    await storeAnswer(scope, 4, FROM, body);
    const { deps: d } = deps(scope);
    const identity = await searchCatalogue(d, FROM, null);
    expect([identity.encoding, text(identity.body)]).toEqual(["identity", body]);
    const gzip = await searchCatalogue(d, FROM, null, { gzip: true });
    expect(gzip.encoding).toBe("gzip");
    expect(gzip.body.byteLength).toBeLessThan(identity.body.byteLength);
    expect(await gunzip(gzip.body)).toEqual(identity.body);
    // Kept: the next gzip request gets the same compressed bytes, not a new compression.
    expect((await searchCatalogue(d, FROM, null, { gzip: true })).body).toBe(gzip.body);
    expect((await searchCatalogue(d, FROM, null)).body).toBe(identity.body);
  });

  it("counts both copies of an answer against the isolate's bound", () => {
    const memory = new AnswerMemory(100);
    const a = { generation: "1", bytes: new Uint8Array(40), confirmedAt: 0 };
    const b = { generation: "1", bytes: new Uint8Array(40), confirmedAt: 0 };
    memory.set("a", a);
    memory.set("b", b);
    expect(memory.size).toBe(80);
    memory.addGzip("b", b, new Uint8Array(30));
    // 110 bytes is over the bound: the oldest answer goes.
    expect([memory.size, memory.get("a"), memory.get("b")]).toEqual([70, undefined, b]);
    // A gzip copy of an answer no longer kept is not counted.
    memory.addGzip("a", a, new Uint8Array(10));
    expect(memory.size).toBe(70);
  });
});

describe("search cache keys by database", () => {
  it("scopes them by host, port and database name, never by credentials", () => {
    const scope = databaseScope("postgres://app:s3cret@db.example.com:6543/geoedge_test?sslmode=require");
    expect(scope).toBe("db.example.com:6543/geoedge_test");
    expect(databaseScope("postgres://app@db.example.com/geoedge_test")).toBe(
      "db.example.com:5432/geoedge_test",
    );
    const other = databaseScope("postgres://app:s3cret@db.example.com:6543/geoedge_dev");
    expect(redisKeys.searchGeneration(scope)).not.toBe(redisKeys.searchGeneration(other));
    expect(redisKeys.searchCachePrefix(scope)).not.toBe(redisKeys.searchCachePrefix(other));
    expect(redisKeys.searchCachePrefix(scope)).not.toContain("s3cret");
  });

  it("never serves one database's cached answer for another's, at the same generation and query", async () => {
    const dev = uniqueId("geoedge_dev");
    const test = uniqueId("geoedge_test");
    for (const [scope, title] of [
      [dev, "from dev"],
      [test, "from test"],
    ] as const) {
      await setGeneration(scope, 3);
      await storeAnswer(scope, 3, FROM, answer(title));
    }
    expect(eventsOf((await searchCatalogue(deps(dev).deps, FROM, null)).body)[0]?.title).toBe("from dev");
    expect(eventsOf((await searchCatalogue(deps(test).deps, FROM, null)).body)[0]?.title).toBe("from test");
  });
});

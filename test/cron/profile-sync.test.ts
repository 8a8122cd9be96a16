import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log";
import { nearbyRedis } from "../../src/profiles/geo-index";
import { databaseNow, upsertProfiles } from "../../src/profiles/repo";
import { profileSyncStatus, requestRebuild, runProfileSync, type SyncKeys } from "../../src/profiles/sync";
import { redisKeys } from "../../src/redis/keys";
import worker from "../../workers/index";
import { isolatedCentre, scatter, seeded } from "../support/geo";
import { uniqueId } from "../support/keys";
import { testDb, testRedis } from "../support/services";

const db = testDb();
const redis = testRedis();
const log = createLogger("warn");
afterAll(() => db.close());

/** Keys of this file's own, so a rebuild here never swaps the index other test files read. */
function ownKeys(): SyncKeys {
  const ns = uniqueId("sync");
  return {
    index: `${ns}:index`,
    build: (id) => `${ns}:build:${id}`,
    state: `${ns}:state`,
    lock: `${ns}:lock`,
  };
}

async function members(key: string, ids: string[]): Promise<string[]> {
  const present: string[] = [];
  for (const id of ids) if ((await redis.geopos(key, id)).length === 1) present.push(id);
  return present;
}

describe("profile sync (Postgres → Redis)", () => {
  it("the 5-minute cron applies upserts and tombstones written straight to Postgres", async () => {
    const random = seeded(7);
    const points = scatter(uniqueId("cron"), isolatedCentre(random), 30, 500, random);
    // Written to Postgres only, as a loader or another service would, bypassing the write-through.
    await upsertProfiles(
      db.db,
      points.map((p) => ({ ...p, name: p.id, kind: "store", attributes: {} })),
    );
    const gone = points.slice(0, 5).map((p) => p.id);
    await db.db.execute(
      sql`UPDATE profiles SET deleted_at = now(), updated_at = now() WHERE id = ANY(${sql.param(gone)}::text[])`,
    );

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "*/5 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);

    const ids = points.map((p) => p.id);
    expect((await members(redisKeys.profiles(), ids)).sort()).toEqual(ids.slice(5).sort());
  });

  it("resumes from its watermark, re-reading only a short overlap", async () => {
    const keys = ownKeys();
    // Start from now rather than from the start of the shared test table.
    await redis.hset(keys.state, { cursor_at: await databaseNow(db.db), cursor_id: "", resume: "1" });
    const random = seeded(11);
    const first = scatter(uniqueId("wm"), isolatedCentre(random), 12, 300, random);
    await upsertProfiles(
      db.db,
      first.map((p) => ({ ...p, name: p.id, kind: "store", attributes: {} })),
    );
    // Small pages and a budget of one page: the first run cannot finish, the next ones carry on.
    let runs = 0;
    for (;;) {
      const result = await runProfileSync({ db: db.db, redis, log, keys, batch: 10 }, 1);
      runs++;
      expect(result.error).toBeUndefined();
      if (!result.more) break;
      expect(runs).toBeLessThan(2000);
    }
    expect(runs).toBeGreaterThan(1);
    const ids = first.map((p) => p.id);
    expect((await members(keys.index, ids)).sort()).toEqual([...ids].sort());

    const status = await profileSyncStatus({ db: db.db, redis, keys });
    expect(status.watermark).not.toBeNull();
    expect(status.last_error).toBeNull();
    expect(status.counts.redis_indexed).toBeGreaterThanOrEqual(ids.length);

    // A change after the watermark is picked up by the next run.
    const [moved] = first;
    if (!moved) throw new Error("no profile");
    await db.db.execute(
      sql`UPDATE profiles SET deleted_at = now(), updated_at = now() WHERE id = ${moved.id}`,
    );
    await runProfileSync({ db: db.db, redis, log, keys, batch: 5000 }, 5);
    expect(await members(keys.index, [moved.id])).toEqual([]);
  });

  it("rebuilds into a separate key while the live index keeps answering, then swaps it in whole", async () => {
    const keys = ownKeys();
    const random = seeded(13);
    const centre = isolatedCentre(random);
    const points = scatter(uniqueId("rb"), centre, 40, 400, random);
    await upsertProfiles(
      db.db,
      points.map((p) => ({ ...p, name: p.id, kind: "store", attributes: {} })),
    );
    // The live index as it stands: some real members, and a stray that Postgres does not have.
    const stray = uniqueId("stray");
    await redis.geoadd(keys.index, { longitude: centre.lon, latitude: centre.lat, member: stray });
    const [first, ...rest] = points
      .slice(0, 10)
      .map((p) => ({ longitude: p.lon, latitude: p.lat, member: p.id }));
    if (first) await redis.geoadd(keys.index, first, ...rest);

    await requestRebuild({ db: db.db, redis, log, keys });
    const partial = await runProfileSync({ db: db.db, redis, log, keys, batch: 50 }, 1);
    expect(partial.rebuilt?.done).toBe(false);
    const status = await profileSyncStatus({ db: db.db, redis, keys });
    expect(status.rebuild.running).toBe(true);
    expect(status.rebuild.indexed).toBe(50);

    // Mid-rebuild, queries still see the old, complete index (stray included), not a half-built one.
    const during = await nearbyRedis(redis, keys.index, {
      lat: centre.lat,
      lon: centre.lon,
      radiusM: 5,
      limit: 5,
    });
    expect(during.hits.map((h) => h.id)).toContain(stray);

    for (let i = 0; i < 10_000; i++) {
      const r = await runProfileSync({ db: db.db, redis, log, keys, batch: 5000 }, 20);
      if (r.rebuilt?.done || !(await profileSyncStatus({ db: db.db, redis, keys })).rebuild.running) break;
    }
    const after = await profileSyncStatus({ db: db.db, redis, keys });
    expect(after.rebuild.running).toBe(false);
    expect(after.rebuild.last_finished_at).not.toBeNull();
    const ids = points.map((p) => p.id);
    expect((await members(keys.index, ids)).sort()).toEqual([...ids].sort());
    expect(await members(keys.index, [stray])).toEqual([]);
  });

  it("records a failure in its status and keeps its watermark when Postgres is unreachable", async () => {
    const keys = ownKeys();
    const { createDb } = await import("../../src/db/client");
    const dead = createDb({
      databaseUrl: "postgres://postgres@127.0.0.1:9/none",
      neonLocalProxy: env.NEON_LOCAL_PROXY,
    });
    const result = await runProfileSync({ db: dead.db, redis, log, keys });
    await dead.close().catch(() => {});
    expect(result.error).toBeTruthy();
    const state = await redis.hgetall<Record<string, string>>(keys.state);
    expect(state?.last_error).toBeTruthy();
    expect(state?.cursor_at).toBeUndefined();
  });
});

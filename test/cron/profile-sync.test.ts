import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log";
import { nearbyRedis } from "../../src/profiles/geo-index";
import { upsertProfiles } from "../../src/profiles/repo";
import { requestRebuild, runProfileSync } from "../../src/profiles/sync";
import { type SyncKeys, syncKeysFor } from "../../src/profiles/sync-state";
import { profileSyncStatus } from "../../src/profiles/sync-status";
import { redisKeys } from "../../src/redis/keys";
import worker from "../../workers/index";
import { isolatedCentre, scatter, seeded } from "../support/geo";
import { uniqueId } from "../support/keys";
import { testDb, testRedis } from "../support/services";

const db = testDb();
const redis = testRedis();
const log = createLogger("warn");
afterAll(() => db.close());

/** Keys of this test's own, so a rebuild here never swaps the index other test files read. */
const ownKeys = (): SyncKeys => syncKeysFor(`test:${uniqueId("sync")}`);

async function members(key: string, ids: string[]): Promise<string[]> {
  const scores = await redis.zmscore(key, ids);
  return ids.filter((_, i) => scores?.[i] !== null && scores?.[i] !== undefined);
}

/** Runs the sync until it has no work left (the shared test table is small), failing on an error. */
async function catchUp(keys: SyncKeys, batch = 5000): Promise<number> {
  for (let runs = 1; runs < 1000; runs++) {
    const result = await runProfileSync({ db: db.db, redis, log, keys, batch });
    expect(result.error).toBeUndefined();
    if (!result.more && !result.skipped) return runs;
  }
  throw new Error("the sync never caught up");
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

  it("starts afresh on a state it does not know, then carries on from its watermark", async () => {
    const keys = ownKeys();
    const random = seeded(11);
    const first = scatter(uniqueId("wm"), isolatedCentre(random), 12, 300, random);
    await upsertProfiles(
      db.db,
      first.map((p) => ({ ...p, name: p.id, kind: "store", attributes: {} })),
    );
    // A state from the previous format (a time watermark): not trusted, the index is rebuilt.
    await redis.hset(keys.state, { cursor_at: "2020-01-01 00:00:00+00", cursor_id: "" });
    await catchUp(keys);
    const ids = first.map((p) => p.id);
    expect((await members(keys.index, ids)).sort()).toEqual([...ids].sort());

    const status = await profileSyncStatus({ db: db.db, redis, keys });
    expect(status.watermark).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(status.last_error).toBeNull();
    expect(status.rebuild).toMatchObject({ running: false, last_finished_at: expect.any(String) });
    expect(status.counts.redis_indexed).toBeGreaterThanOrEqual(ids.length);

    // Changes after the watermark, straight in Postgres: a tombstone, a move and a SQL delete.
    const [tombstoned, moved, deleted] = first;
    if (!tombstoned || !moved || !deleted) throw new Error("no profiles");
    await db.db.execute(sql`UPDATE profiles SET deleted_at = now() WHERE id = ${tombstoned.id}`);
    await db.db.execute(
      sql`UPDATE profiles SET location = ST_SetSRID(ST_MakePoint(${moved.lon + 0.01}, ${moved.lat}), 4326)::geography WHERE id = ${moved.id}`,
    );
    await db.db.execute(sql`DELETE FROM profiles WHERE id = ${deleted.id}`);
    const run = await runProfileSync({ db: db.db, redis, log, keys });
    expect(run.error).toBeUndefined();
    expect(await members(keys.index, [tombstoned.id, deleted.id])).toEqual([]);
    const [pos] = await redis.geopos(keys.index, moved.id);
    expect(Number(pos?.lng)).toBeCloseTo(moved.lon + 0.01, 5);
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
    // The sync in step first (a first run on an unknown state rebuilds); then a stray member that
    // Postgres does not have, and a rebuild asked for.
    await catchUp(keys);
    const stray = uniqueId("stray");
    await redis.geoadd(keys.index, { longitude: centre.lon, latitude: centre.lat, member: stray });
    await requestRebuild({ db: db.db, redis, log, keys });
    let status = await profileSyncStatus({ db: db.db, redis, keys });
    expect(status.rebuild).toMatchObject({ running: true, in_place: false, indexed: 0 });
    for (let i = 0; i < 100 && status.rebuild.indexed === 0; i++) {
      const partial = await runProfileSync({ db: db.db, redis, log, keys, batch: 50 }, 2);
      expect(partial.error).toBeUndefined();
      status = await profileSyncStatus({ db: db.db, redis, keys });
    }
    expect(status.rebuild.running).toBe(true);
    expect(status.rebuild.indexed).toBeGreaterThan(0);

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
    expect(state?.cursor_xid).toBeUndefined();
  });
});

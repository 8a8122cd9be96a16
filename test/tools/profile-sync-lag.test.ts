import { randomInt } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "../../src/db/client.ts";
import { createLogger } from "../../src/log.ts";
import { requestRebuild, runProfileSync } from "../../src/profiles/sync.ts";
import type { SyncDeps } from "../../src/profiles/sync-state.ts";
import { profileSyncStatus } from "../../src/profiles/sync-status.ts";
import { createRedis, type Redis } from "../../src/redis/client.ts";
import { redisKeys } from "../../src/redis/keys.ts";
import { appDb, ensureBenchDatabase } from "../../tools/bench/lib/bench-pg.ts";
import { loadProfiles, profileId, stackIndex } from "../../tools/load/profiles.ts";
import { RespClient } from "../../tools/stack/resp.ts";
import { ensureStack, type StackHandle } from "../../tools/stack/stack.ts";

// This file's own database and Redis database: it truncates and flushes them as it likes.
const DATABASE = "geoedge_sync_lag";
/**
 * Pages of 500 rows, a tenth of production's, so a 20,000-row load is several runs' work; the
 * budget of pages per run is production's. "One run" below is one sync period (the 5-minute cron).
 */
const BATCH = 500;
const LOAD = 20_000;

let stack: StackHandle;
let url: string;
let handle: DbHandle;
let redis: Redis;
let resp: RespClient;
let deps: SyncDeps;
const seedA = randomInt(1, 1_000_000);
const seedB = seedA + 1;

const query = (text: string, params: unknown[] = []) => handle.pool.query(text, params);
const point = (lon: number, lat: number) => `ST_SetSRID(ST_MakePoint(${lon}, ${lat}), 4326)::geography`;

/** One run of the sync, as the cron makes every five minutes. */
async function oneRun() {
  const result = await runProfileSync(deps);
  expect(result.error).toBeUndefined();
  expect(result.skipped).toBeUndefined();
  return result;
}

async function catchUp(): Promise<number> {
  for (let runs = 1; runs < 500; runs++) if (!(await oneRun()).more) return runs;
  throw new Error("the sync never caught up");
}

async function indexed(ids: string[]): Promise<string[]> {
  const scores = await redis.zmscore(redisKeys.profiles(), ids);
  return ids.filter((_, i) => scores?.[i] !== null && scores?.[i] !== undefined);
}

async function lonOf(id: string): Promise<number | undefined> {
  const [pos] = await redis.geopos(redisKeys.profiles(), id);
  return pos ? Number(pos.lng) : undefined;
}

/** A SQL insert, update and delete, straight into Postgres, as another service would make them. */
async function sqlChanges(tag: string, update: string, remove: string) {
  const inserted = `${tag}-${randomInt(1_000_000)}`;
  await query(`INSERT INTO profiles (id, name, location) VALUES ($1, 'inserted', ${point(-3.7, 40.42)})`, [
    inserted,
  ]);
  const lon = -3.6 - randomInt(1000) / 100_000;
  await query(`UPDATE profiles SET location = ${point(lon, 40.5)} WHERE id = $1`, [update]);
  await query("DELETE FROM profiles WHERE id = $1", [remove]);
  return { inserted, updated: update, lon, deleted: remove };
}

/** The change is in the index: the insert and the move are there, the deleted row is not. */
async function expectApplied(change: Awaited<ReturnType<typeof sqlChanges>>) {
  expect(await indexed([change.inserted, change.deleted])).toEqual([change.inserted]);
  expect(await lonOf(change.updated)).toBeCloseTo(change.lon, 5);
}

async function expectIndexMatchesTable() {
  const status = await profileSyncStatus(deps);
  expect(status.counts.redis_indexed).toBe(status.counts.postgres_live);
  expect(status.rebuild.running).toBe(false);
  expect(status.backlog.running).toBe(false);
}

beforeAll(async () => {
  stack = await ensureStack();
  url = await ensureBenchDatabase(stack, DATABASE);
  handle = appDb(stack, url, 2);
  redis = createRedis({
    redis: { url: stack.bridge.url, token: stack.bridge.token(DATABASE), retries: 0 },
  });
  resp = await RespClient.connect(stack.redis(DATABASE));
  await resp.send(["FLUSHDB"]);
  await query("DELETE FROM profile_deletions");
  deps = { db: handle.db, redis, log: createLogger("error"), batch: BATCH };
}, 120_000);

afterAll(async () => {
  await resp?.close();
  await handle?.close();
  await stack?.stop();
});

describe("profile sync: a change made in Postgres is in the Redis index one run later, whatever came before", () => {
  it("after a bulk load that wrote the index itself: the load leaves a watermark and is never read again", async () => {
    const load = await loadProfiles({
      count: LOAD,
      seed: seedA,
      databaseUrl: url,
      localProxy: stack.proxy,
      truncate: true,
      cluster: false,
      redis: stackIndex(stack, DATABASE),
      chunkSize: 5000,
    });
    expect(load.watermark).toMatch(/^\d+$/);
    // Its TRUNCATE emptied the index too: no marker asks the sync for a rebuild.
    const markers = await query("SELECT count(*)::int AS n FROM profile_deletions WHERE truncated");
    expect(markers.rows[0]?.n).toBe(0);
    const before = await profileSyncStatus(deps);
    expect(before.watermark).not.toBeNull();
    expect(before.counts.redis_indexed).toBe(LOAD);

    const change = await sqlChanges("after-load", profileId(seedA, 7), profileId(seedA, 8));
    const run = await oneRun();
    await expectApplied(change);
    // Exactly the three changes: none of the 20,000 loaded rows was read again.
    expect(run.applied + run.removed).toBe(3);
    expect(run.more).toBe(false);
    await expectIndexMatchesTable();
  });

  it("after a bulk load the sync must index itself: the changes made since come first, the load follows", async () => {
    await loadProfiles({
      count: LOAD,
      seed: seedB,
      databaseUrl: url,
      localProxy: stack.proxy,
      cluster: false,
    });
    // Made after the load and before any run: behind 20,000 rows the sync has yet to read.
    const change = await sqlChanges("after-bulk", profileId(seedB, LOAD - 1), profileId(seedA, 9));
    const first = await oneRun();
    await expectApplied(change);
    expect(first.more).toBe(true);
    expect((await profileSyncStatus(deps)).backlog.running).toBe(true);

    // And a change while the backlog is being worked through.
    const next = await sqlChanges("during-backlog", profileId(seedB, 5), profileId(seedB, 6));
    await oneRun();
    await expectApplied(next);

    await catchUp();
    await expectIndexMatchesTable();
    expect(await indexed([profileId(seedB, 0), profileId(seedB, LOAD - 2)])).toHaveLength(2);
  });

  it("after Redis restarted empty: recent changes first, the rest rebuilt into the live key", async () => {
    await resp.send(["FLUSHDB"]);
    const change = await sqlChanges("after-restart", profileId(seedA, 10), profileId(seedA, 11));
    await oneRun();
    await expectApplied(change);
    const status = await profileSyncStatus(deps);
    expect(status.rebuild).toMatchObject({ running: true, in_place: true });

    await catchUp();
    await expectIndexMatchesTable();
  });

  it("while a full rebuild is half done: changes reach the live index and the swapped-in one", async () => {
    const stray = "stray-not-in-postgres";
    await redis.geoadd(redisKeys.profiles(), { longitude: -3.7, latitude: 40.42, member: stray });
    await requestRebuild(deps);
    const partial = await oneRun();
    expect(partial.rebuilt?.done).toBe(false);
    const status = await profileSyncStatus(deps);
    expect(status.rebuild).toMatchObject({ running: true, in_place: false });
    expect(status.rebuild.indexed).toBeGreaterThan(0);
    expect(status.rebuild.indexed).toBeLessThan(status.counts.postgres_live);

    // "0…" sorts before every id the copy has passed: only the sync's own writes can bring it over.
    const change = await sqlChanges("0-during-rebuild", profileId(seedA, 12), profileId(seedB, 13));
    await oneRun();
    await expectApplied(change);

    await catchUp();
    await expectApplied(change);
    expect(await indexed([stray])).toEqual([]);
    await expectIndexMatchesTable();
  });

  it("after a TRUNCATE in SQL: the index is rebuilt to hold what the table holds now", async () => {
    await query("TRUNCATE profiles");
    await query(
      `INSERT INTO profiles (id, name, location) VALUES ('t-1', 'one', ${point(1, 1)}), ('t-2', 'two', ${point(2, 2)})`,
    );
    await oneRun();
    await catchUp();
    expect(await redis.zcard(redisKeys.profiles())).toBe(2);
    expect(await indexed(["t-1", "t-2", profileId(seedA, 0)])).toEqual(["t-1", "t-2"]);
    await expectIndexMatchesTable();
  });
});

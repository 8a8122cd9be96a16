import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { redisKeys } from "../../src/redis/keys";
import { liveStateOf, publishLive } from "../../src/tracking/live";
import { insertPositions } from "../../src/tracking/repo";
import worker from "../../workers/index";
import { uniqueId } from "../support/keys";
import { testDb, testRedis } from "../support/services";

describe("stale courier cleanup cron", () => {
  it("removes couriers not seen within the staleness window and keeps the others", async () => {
    const redis = testRedis();
    const now = Date.now();
    const stale = uniqueId("stale");
    const fresh = uniqueId("fresh");
    const staleAfterMs = Number(env.COURIER_STALE_AFTER_S) * 1000;
    await publishLive(redis, [
      liveStateOf(
        { courierId: stale, recordedAt: now - staleAfterMs - 60_000, lat: 40, lon: -3 },
        now - staleAfterMs - 60_000,
      ),
      liveStateOf({ courierId: fresh, recordedAt: now, lat: 40.001, lon: -3 }, now),
    ]);

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "*/10 * * * *", scheduledTime: now }), env, ctx);
    await waitOnExecutionContext(ctx);

    // The client drops missing members from GEOPOS replies, so ask for each courier on its own.
    expect(await redis.geopos(redisKeys.liveCouriers(), stale)).toEqual([]);
    expect(await redis.geopos(redisKeys.liveCouriers(), fresh)).toHaveLength(1);
    expect(await redis.exists(redisKeys.courierState(stale))).toBe(0);
    expect(await redis.zscore(redisKeys.courierLastSeen(), fresh)).toBe(now);
  });

  it("deletes positions older than the retention and keeps the newer ones", async () => {
    const db = testDb();
    const courier = uniqueId("retention");
    const now = Date.now();
    const days = Number(env.POSITIONS_RETENTION_DAYS);
    try {
      await insertPositions(db.db, [
        { courierId: courier, recordedAt: now - (days + 400) * 86_400_000, lat: 1, lon: 1 },
        { courierId: courier, recordedAt: now - (days + 1) * 86_400_000, lat: 1, lon: 1 },
        { courierId: courier, recordedAt: now - (days - 1) * 86_400_000, lat: 1, lon: 1 },
        { courierId: courier, recordedAt: now - 60_000, lat: 1, lon: 1 },
      ]);
      const ctx = createExecutionContext();
      await worker.scheduled(
        createScheduledController({ cron: "*/10 * * * *", scheduledTime: now }),
        env,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      const left = await db.db.execute<{ t: string }>(
        sql`select (extract(epoch from recorded_at) * 1000)::bigint::text as t from courier_positions where courier_id = ${courier} order by 1`,
      );
      expect(left.rows.map((r) => Number(r.t))).toEqual([now - (days - 1) * 86_400_000, now - 60_000]);
    } finally {
      await db.close();
    }
  });

  it("fails loudly for a cron string that has no job", async () => {
    const ctx = createExecutionContext();
    await expect(
      worker.scheduled(createScheduledController({ cron: "0 0 31 2 *" }), env, ctx),
    ).rejects.toThrow(/no job registered/);
  });
});

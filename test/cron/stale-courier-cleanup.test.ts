import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { redisKeys } from "../../src/redis/keys";
import { liveStateOf, publishLive } from "../../src/tracking/live";
import worker from "../../workers/index";
import { uniqueId } from "../support/keys";
import { testRedis } from "../support/services";

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

  it("fails loudly for a cron string that has no job", async () => {
    const ctx = createExecutionContext();
    await expect(
      worker.scheduled(createScheduledController({ cron: "0 0 31 2 *" }), env, ctx),
    ).rejects.toThrow(/no job registered/);
  });
});

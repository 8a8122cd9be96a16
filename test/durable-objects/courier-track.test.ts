import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import type { CourierTrack } from "../../durable-objects/courier-track";
import { objectNames } from "../../src/objects/names";
import { redisKeys } from "../../src/redis/keys";
import type { Fix } from "../../src/tracking/schemas";
import { uniqueId } from "../support/keys";
import { testDb, testRedis } from "../support/services";

const db = testDb();
afterAll(() => db.close());

function fixes(courierId: string, times: number[]): Fix[] {
  return times.map((t, i) => ({
    courierId,
    recordedAt: t,
    lat: 40.4 + i * 0.001,
    lon: -3.7,
    speedMps: 5,
    state: "to_pickup",
  }));
}

async function storedTimes(courierId: string): Promise<number[]> {
  const result = await db.db.execute<{ t: string }>(
    sql`select (extract(epoch from recorded_at) * 1000)::bigint::text as t from courier_positions where courier_id = ${courierId} order by recorded_at`,
  );
  return result.rows.map((r) => Number(r.t));
}

describe("CourierTrack", () => {
  it("buffers fixes durably, drops duplicates and keeps the newest as live state", async () => {
    const id = uniqueId("courier");
    const track = env.COURIER_TRACK.getByName(objectNames.courierTrack(id));
    const t0 = Date.now() - 3_600_000;
    expect(await track.record(fixes(id, [t0 + 2000, t0]))).toEqual({ accepted: 2, duplicates: 0 });
    // Replayed and out-of-order: the old fix is a duplicate, the older new one must not move live state back.
    expect(await track.record(fixes(id, [t0, t0 + 1000]))).toEqual({ accepted: 1, duplicates: 1 });
    expect(await track.pending()).toBe(3);
    const state = await track.state();
    expect(state?.recordedAt).toBe(t0 + 2000);
    expect(state?.courierId).toBe(id);
  });

  it("flushes the buffer to Postgres and Redis when its alarm fires, once even if the alarm repeats", async () => {
    const id = uniqueId("courier");
    const track = env.COURIER_TRACK.getByName(objectNames.courierTrack(id));
    const t0 = Date.now() - 3_000_000;
    await track.record(fixes(id, [t0, t0 + 1000, t0 + 2000]));
    expect(await runDurableObjectAlarm(track)).toBe(true);
    expect(await storedTimes(id)).toEqual([t0, t0 + 1000, t0 + 2000]);
    expect(await track.pending()).toBe(0);

    const redis = testRedis();
    const [pos] = await redis.geopos(redisKeys.liveCouriers(), id);
    expect(Number(pos?.lat)).toBeCloseTo(40.402, 4);
    expect(await redis.hget(redisKeys.courierState(id), "state")).toBe("to_pickup");

    // A replay after the flush (at-least-once delivery) and a second alarm write nothing twice.
    await track.record(fixes(id, [t0 + 1000]));
    expect(await runDurableObjectAlarm(track)).toBe(true);
    expect(await storedTimes(id)).toEqual([t0, t0 + 1000, t0 + 2000]);
    expect(await runDurableObjectAlarm(track)).toBe(false);
  });

  it("keeps the buffer and backs off when Postgres is down, then flushes when it is back", async () => {
    const id = uniqueId("courier");
    const track = env.COURIER_TRACK.getByName(objectNames.courierTrack(id));
    const t0 = Date.now() - 2_400_000;
    await track.record(fixes(id, [t0, t0 + 1000]));
    const failed = await runInDurableObject(track, async (instance: CourierTrack, state) => {
      const realEnv = Reflect.get(instance, "env") as Env;
      Reflect.set(instance, "env", { ...realEnv, DATABASE_URL: "postgres://postgres@127.0.0.1:9/none" });
      try {
        const result = await instance.flush();
        const alarm = await state.storage.getAlarm();
        return { result, alarm };
      } finally {
        Reflect.set(instance, "env", realEnv);
      }
    });
    expect(failed.result.flushed).toBe(0);
    expect(failed.result.error).toBeTruthy();
    expect(await track.pending()).toBe(2);
    expect(await storedTimes(id)).toEqual([]);

    const retried = await runInDurableObject(track, (_instance: CourierTrack, state) =>
      state.storage.sql
        .exec<{ attempts: number; due_at: number }>(
          "SELECT attempts, due_at FROM due_work WHERE kind = 'flush'",
        )
        .one(),
    );
    expect(retried.attempts).toBe(1);
    expect(retried.due_at).toBeGreaterThan(Date.now());

    expect(await runDurableObjectAlarm(track)).toBe(true);
    expect(await storedTimes(id)).toEqual([t0, t0 + 1000]);
    expect(await track.pending()).toBe(0);
  });

  it("keeps an out-of-order fix that arrives while a flush is writing", async () => {
    const id = uniqueId("courier");
    const track = env.COURIER_TRACK.getByName(objectNames.courierTrack(id));
    const t0 = Date.now() - 1_800_000;
    await track.record(fixes(id, [t0, t0 + 2000]));
    const during = await runInDurableObject(track, async (instance: CourierTrack) => {
      // The flush has read its rows and awaits Postgres when the older fix comes in.
      const flushing = instance.flush();
      await instance.record(fixes(id, [t0 + 1000]));
      return { flushed: await flushing, pending: await instance.pending() };
    });
    expect(during.flushed.flushed).toBe(2);
    expect(during.pending).toBe(1);
    expect(await storedTimes(id)).toEqual([t0, t0 + 2000]);

    expect(await runDurableObjectAlarm(track)).toBe(true);
    expect(await storedTimes(id)).toEqual([t0, t0 + 1000, t0 + 2000]);
    expect(await track.pending()).toBe(0);
  });
});

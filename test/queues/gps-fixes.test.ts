import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { objectNames } from "../../src/objects/names";
import type { GpsFixesMessage } from "../../src/tracking/schemas";
import worker from "../../workers/index";
import { retryDelaySeconds } from "../../workers/queues/index";
import { uniqueId } from "../support/keys";

function message(id: string, body: unknown, attempts = 1) {
  return { id, timestamp: Date.now(), attempts, body };
}

describe("GPS fixes queue consumer", () => {
  it("hands each courier's fixes to its own object and acks the message", async () => {
    const a = uniqueId("courier-a");
    const b = uniqueId("courier-b");
    const t0 = Date.now() - 600_000;
    const body: GpsFixesMessage = {
      v: 1,
      fixes: [
        { courierId: a, recordedAt: t0, lat: 51.5, lon: -0.12 },
        { courierId: b, recordedAt: t0, lat: 51.51, lon: -0.13, state: "free" },
        { courierId: a, recordedAt: t0 + 1000, lat: 51.501, lon: -0.121 },
      ],
    };
    const batch = createMessageBatch("geoedge-gps-fixes", [message("m1", body)]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["m1"]);
    expect(result.retryMessages).toEqual([]);
    expect(await env.COURIER_TRACK.getByName(objectNames.courierTrack(a)).pending()).toBe(2);
    const stateB = await env.COURIER_TRACK.getByName(objectNames.courierTrack(b)).state();
    expect(stateB?.state).toBe("free");
  });

  it("treats a redelivered message as harmless: the objects drop the duplicates", async () => {
    const a = uniqueId("courier");
    const body: GpsFixesMessage = {
      v: 1,
      fixes: [{ courierId: a, recordedAt: Date.now() - 500_000, lat: 1, lon: 2 }],
    };
    for (const attempt of [1, 2]) {
      const batch = createMessageBatch("geoedge-gps-fixes", [message(`m-${attempt}`, body, attempt)]);
      const ctx = createExecutionContext();
      await worker.queue(batch, env, ctx);
      expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([`m-${attempt}`]);
    }
    expect(await env.COURIER_TRACK.getByName(objectNames.courierTrack(a)).pending()).toBe(1);
  });

  it("retries a malformed message (never acks it) so it reaches the dead-letter queue", async () => {
    const good: GpsFixesMessage = {
      v: 1,
      fixes: [{ courierId: uniqueId("courier"), recordedAt: Date.now() - 400_000, lat: 1, lon: 2 }],
    };
    const batch = createMessageBatch("geoedge-gps-fixes", [
      message("bad", { v: 1, fixes: [{ courierId: "x", lat: 95 }] }),
      message("good", good),
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["good"]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["bad"]);
  });

  it("backs off retries exponentially, capped at five minutes", () => {
    expect([1, 2, 3, 9, 20].map(retryDelaySeconds)).toEqual([1, 2, 4, 256, 300]);
  });
});

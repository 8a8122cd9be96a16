import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { getNotification, insertNotification } from "../../src/notifications/repo";
import { verifySignature } from "../../src/notifications/signing";
import worker from "../../workers/index";
import { NOTIFICATION_ATTEMPTS } from "../../workers/queues/notifications";
import { authHeaders, uniqueId } from "../support/keys";
import { testDb } from "../support/services";

const db = testDb();
afterAll(() => db.close());

/** Creates a seller through the API; returns its id and signing secret. */
async function createSeller(webhookUrl: string | null): Promise<{ id: string; secret: string }> {
  const id = uniqueId("seller");
  const res = await exports.default.fetch(`http://geoedge.test/v1/sellers/${id}`, {
    method: "PUT",
    headers: { ...authHeaders("admin"), "content-type": "application/json" },
    body: JSON.stringify({ webhook_url: webhookUrl, quiet_period_s: 60 }),
  });
  expect(res.status).toBe(201);
  return { id, secret: ((await res.json()) as { signing_secret: string }).signing_secret };
}

async function notificationFor(sellerId: string): Promise<string> {
  const id = `${sellerId}.1`;
  const now = Date.now();
  await insertNotification(db.db, {
    id,
    sellerId,
    packageIds: ["AAAAAA", "BBBBBB"],
    firstScanAt: now - 1000,
    lastScanAt: now,
    dueAt: now,
  });
  return id;
}

async function deliverAttempt(notificationId: string, attempts: number) {
  const batch = createMessageBatch("geoedge-notifications", [
    { id: `m-${attempts}`, timestamp: Date.now(), attempts, body: { v: 1, notificationId } },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

async function received(name: string) {
  const res = await fetch(`${env.TEST_RECEIVER_URL}/hook/${name}`);
  return (await res.json()) as { headers: Record<string, string>; body: string; answered: number }[];
}

describe("notification delivery", () => {
  it("retries a receiver that fails three times, then delivers once with a valid signature", async () => {
    const hook = uniqueId("hook");
    const seller = await createSeller(`${env.TEST_RECEIVER_URL}/hook/${hook}?fail=3`);
    const id = await notificationFor(seller.id);
    for (const attempt of [1, 2, 3]) {
      const result = await deliverAttempt(id, attempt);
      expect(result.retryMessages.map((m) => m.msgId)).toEqual([`m-${attempt}`]);
    }
    expect((await deliverAttempt(id, 4)).explicitAcks).toEqual(["m-4"]);
    // A redelivered message after success sends nothing more.
    expect((await deliverAttempt(id, 5)).explicitAcks).toEqual(["m-5"]);

    const got = await received(hook);
    expect(got.map((r) => r.answered)).toEqual([500, 500, 500, 204]);
    const last = got[3];
    if (!last) throw new Error("no delivery");
    const header = last.headers["x-geoedge-signature"] as string;
    expect(await verifySignature(seller.secret, last.body, header, Math.floor(Date.now() / 1000))).toBe(true);
    expect(await verifySignature(seller.secret, `${last.body} `, header, Math.floor(Date.now() / 1000))).toBe(
      false,
    );
    expect(JSON.parse(last.body)).toMatchObject({
      id,
      seller_id: seller.id,
      package_ids: ["AAAAAA", "BBBBBB"],
    });

    const row = await getNotification(db.db, id);
    expect(row).toMatchObject({ status: "delivered", attempts: 4 });
    expect(row?.deliveredAt).toBeInstanceOf(Date);
  });

  it("marks the notification failed after the last attempt and sends it to the dead-letter queue", async () => {
    const hook = uniqueId("hook");
    const seller = await createSeller(`${env.TEST_RECEIVER_URL}/hook/${hook}?fail=always`);
    const id = await notificationFor(seller.id);
    const before = await deliverAttempt(id, NOTIFICATION_ATTEMPTS - 1);
    expect(before.retryMessages.map((m) => m.msgId)).toEqual([`m-${NOTIFICATION_ATTEMPTS - 1}`]);
    expect((await getNotification(db.db, id))?.status).toBe("pending");

    const last = await deliverAttempt(id, NOTIFICATION_ATTEMPTS);
    // Retried without delay past max_retries: the queue moves it to geoedge-notifications-dlq.
    expect(last.retryMessages.map((m) => m.msgId)).toEqual([`m-${NOTIFICATION_ATTEMPTS}`]);
    expect(last.explicitAcks).toEqual([]);
    expect(await getNotification(db.db, id)).toMatchObject({
      status: "failed",
      lastError: "receiver answered 500",
    });
  });

  it("stores the notification of a seller without a webhook, and redelivers on request", async () => {
    const seller = await createSeller(null);
    const id = await notificationFor(seller.id);
    expect((await deliverAttempt(id, 1)).explicitAcks).toEqual(["m-1"]);
    expect((await getNotification(db.db, id))?.status).toBe("stored");

    const res = await exports.default.fetch(`http://geoedge.test/v1/notifications/${id}/redeliver`, {
      method: "POST",
      headers: authHeaders("admin"),
    });
    expect(res.status).toBe(202);
    const missing = await exports.default.fetch("http://geoedge.test/v1/notifications/nope.1/redeliver", {
      method: "POST",
      headers: authHeaders("admin"),
    });
    expect(missing.status).toBe(404);
  });
});

import { deliver } from "../../src/notifications/delivery";
import { getNotification, getSeller, recordAttempt } from "../../src/notifications/repo";
import { notificationMessageSchema } from "../../src/notifications/schemas";
import type { BatchIo, ConsumerResult } from "./index";

/**
 * Delivery attempts before a notification is marked failed; the message is then retried once more
 * so the queue moves it to `geoedge-notifications-dlq`. Matches `max_retries = 8` in wrangler.toml
 * (the first delivery plus eight retries).
 */
export const NOTIFICATION_ATTEMPTS = 9;

/**
 * Delivers one notification to its seller's webhook. Success and "no webhook" ack; a failed
 * attempt retries with backoff until the last, which marks the notification failed.
 */
export async function consumeNotification(
  body: unknown,
  _env: Env,
  attempts: number,
  io: BatchIo,
): Promise<ConsumerResult> {
  const parsed = notificationMessageSchema.safeParse(body);
  if (!parsed.success) return { outcome: "poison", reason: "not a notification message" };
  const db = io.db();
  const notification = await getNotification(db, parsed.data.notificationId);
  if (!notification) return { outcome: "poison", reason: `no notification ${parsed.data.notificationId}` };
  if (notification.status === "delivered") return { outcome: "ack" };
  const seller = await getSeller(db, notification.sellerId);
  if (!seller?.webhookUrl) {
    // Nothing to deliver to: the notification stays stored and listed in the seller's history.
    await recordAttempt(db, notification.id, { status: "stored" });
    return { outcome: "ack" };
  }
  const result = await deliver(notification, seller, Math.floor(Date.now() / 1000));
  if (result.ok) {
    await recordAttempt(db, notification.id, { status: "delivered" });
    return { outcome: "ack" };
  }
  const last = attempts >= NOTIFICATION_ATTEMPTS;
  await recordAttempt(db, notification.id, {
    status: last ? "failed" : "pending",
    error: result.error,
  });
  return last
    ? { outcome: "poison", reason: `gave up after ${attempts} attempts: ${result.error}` }
    : { outcome: "retry", reason: result.error };
}

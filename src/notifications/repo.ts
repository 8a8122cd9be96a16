import { and, desc, eq, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { notifications, sellers } from "../db/schema";
import type { SellerNotification } from "./schemas";

/** A seller row. */
export type Seller = typeof sellers.$inferSelect;
/** A notification row. */
export type NotificationRow = typeof notifications.$inferSelect;

/** The seller, or undefined. */
export async function getSeller(db: Db, id: string): Promise<Seller | undefined> {
  const [row] = await db.select().from(sellers).where(eq(sellers.id, id));
  return row;
}

/**
 * Creates or updates a seller. `secret` becomes the signing secret of a new seller; an existing
 * seller keeps its secret unless `rotate` is set. Returns the row and whether it was created.
 */
export async function upsertSeller(
  db: Db,
  s: {
    id: string;
    webhookUrl: string | null;
    quietPeriodS: number;
    maxWaitS: number | null;
    secret: string;
    rotate: boolean;
  },
): Promise<{ seller: Seller; created: boolean }> {
  const [created] = await db
    .insert(sellers)
    .values({
      id: s.id,
      webhookUrl: s.webhookUrl,
      quietPeriodS: s.quietPeriodS,
      maxWaitS: s.maxWaitS,
      signingSecret: s.secret,
    })
    .onConflictDoNothing()
    .returning();
  if (created) return { seller: created, created: true };
  const [updated] = await db
    .update(sellers)
    .set({
      webhookUrl: s.webhookUrl,
      quietPeriodS: s.quietPeriodS,
      maxWaitS: s.maxWaitS,
      updatedAt: new Date(),
      ...(s.rotate ? { signingSecret: s.secret } : {}),
    })
    .where(eq(sellers.id, s.id))
    .returning();
  if (!updated) throw new Error(`seller ${s.id} vanished during update`);
  return { seller: updated, created: false };
}

/** Stores a notification; storing the same id again changes nothing (alarms may repeat). */
export async function insertNotification(db: Db, n: SellerNotification): Promise<void> {
  await db
    .insert(notifications)
    .values({
      id: n.id,
      sellerId: n.sellerId,
      packageIds: n.packageIds,
      firstScanAt: new Date(n.firstScanAt),
      lastScanAt: new Date(n.lastScanAt),
      dueAt: new Date(n.dueAt),
    })
    .onConflictDoNothing();
}

/** One notification by id. */
export async function getNotification(db: Db, id: string): Promise<NotificationRow | undefined> {
  const [row] = await db.select().from(notifications).where(eq(notifications.id, id));
  return row;
}

/** A seller's notifications, newest first, a page before `before` (a creation time). */
export async function listNotifications(
  db: Db,
  sellerId: string,
  limit: number,
  before?: Date,
): Promise<NotificationRow[]> {
  return db
    .select()
    .from(notifications)
    .where(
      and(eq(notifications.sellerId, sellerId), before ? lt(notifications.createdAt, before) : undefined),
    )
    .orderBy(desc(notifications.createdAt), desc(notifications.id))
    .limit(limit);
}

/** Records one delivery attempt and its outcome. */
export async function recordAttempt(
  db: Db,
  id: string,
  outcome: { status: "delivered" | "pending" | "failed" | "stored"; error?: string },
): Promise<void> {
  await db
    .update(notifications)
    .set({
      status: outcome.status,
      attempts:
        outcome.status === "stored" ? sql`${notifications.attempts}` : sql`${notifications.attempts} + 1`,
      lastError: outcome.error ?? null,
      ...(outcome.status === "delivered" ? { deliveredAt: new Date() } : {}),
    })
    .where(eq(notifications.id, id));
}

/** Puts a notification back to pending for a manual redelivery. */
export async function resetForRedelivery(db: Db, id: string): Promise<NotificationRow | undefined> {
  const [row] = await db
    .update(notifications)
    .set({ status: "pending", lastError: null })
    .where(eq(notifications.id, id))
    .returning();
  return row;
}

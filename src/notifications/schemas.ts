import { z } from "zod";

export const sellerIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "must be 1-64 characters of letters, digits, _ . : -");
export const packageIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "must be 1-64 characters of letters, digits, _ . : -");

/** Longest quiet period and maximum wait a seller may set: one week. */
export const MAX_PERIOD_S = 7 * 24 * 3600;

/** One package scan as clients send it. `scanned_at` (ISO 8601 or epoch ms) defaults to now. */
export const scanInputSchema = z.object({
  seller_id: sellerIdSchema,
  package_id: packageIdSchema,
  scanned_at: z.union([z.iso.datetime({ offset: true }), z.number().int().positive()]).optional(),
});

export type ScanInput = z.infer<typeof scanInputSchema>;

/** A seller's settings as `PUT /v1/sellers/:id` takes them. */
export const sellerInputSchema = z.object({
  webhook_url: z
    .url()
    .regex(/^https?:\/\//, "must be an http(s) URL")
    .nullable()
    .default(null),
  quiet_period_s: z
    .number()
    .int()
    .min(1)
    .max(MAX_PERIOD_S, `must be <= ${MAX_PERIOD_S} (one week)`)
    .optional(),
  max_wait_s: z
    .number()
    .int()
    .min(1)
    .max(MAX_PERIOD_S, `must be <= ${MAX_PERIOD_S} (one week)`)
    .nullable()
    .default(null),
  rotate_secret: z.boolean().default(false),
});

export type SellerInput = z.infer<typeof sellerInputSchema>;

/** A seller's debounce settings as its Durable Object keeps them. */
export interface DebounceSettings {
  quietMs: number;
  maxWaitMs: number | null;
}

/** The notification a seller's object hands on once the seller has been quiet long enough. */
export interface SellerNotification {
  id: string;
  sellerId: string;
  packageIds: string[];
  firstScanAt: number;
  lastScanAt: number;
  dueAt: number;
}

/** What travels on the notifications queue. */
export const notificationMessageSchema = z.object({ v: z.literal(1), notificationId: z.string().min(1) });
export type NotificationMessage = z.infer<typeof notificationMessageSchema>;

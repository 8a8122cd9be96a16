import { createRoute, z } from "@hono/zod-openapi";
import { listNotifications, type NotificationRow, upsertSeller } from "../../../src/notifications/repo";
import { sellerIdSchema, sellerInputSchema } from "../../../src/notifications/schemas";
import { newSigningSecret } from "../../../src/notifications/signing";
import { objectNames } from "../../../src/objects/names";
import { createRouter } from "../context";
import { requireScope } from "../middleware/auth";

const idParam = z.object({ id: sellerIdSchema });

const seller = z
  .object({
    id: z.string(),
    webhook_url: z.string().nullable(),
    quiet_period_s: z.number().int(),
    max_wait_s: z.number().int().nullable(),
    signing_secret: z.string().optional().describe("returned only when created or rotated: store it now"),
  })
  .openapi("Seller");

const notification = z
  .object({
    id: z.string(),
    package_ids: z.array(z.string()),
    first_scan_at: z.string(),
    last_scan_at: z.string(),
    due_at: z.string(),
    created_at: z.string(),
    status: z.enum(["pending", "delivered", "failed", "stored"]),
    attempts: z.number().int(),
    last_error: z.string().nullable(),
    delivered_at: z.string().nullable(),
  })
  .openapi("Notification");

/** A notification as the API returns it. */
export function notificationJson(n: NotificationRow) {
  return {
    id: n.id,
    package_ids: n.packageIds,
    first_scan_at: n.firstScanAt.toISOString(),
    last_scan_at: n.lastScanAt.toISOString(),
    due_at: n.dueAt.toISOString(),
    created_at: n.createdAt.toISOString(),
    status: n.status as "pending" | "delivered" | "failed" | "stored",
    attempts: n.attempts,
    last_error: n.lastError,
    delivered_at: n.deliveredAt?.toISOString() ?? null,
  };
}

const put = createRoute({
  method: "put",
  path: "/{id}",
  summary: "Create or update a seller",
  description:
    "Webhook URL (null: notifications are only stored), quiet period (default from `SELLER_QUIET_PERIOD_S`) and optional maximum wait. A signing secret is generated on creation (or with `rotate_secret`) and returned once.",
  tags: ["notifications"],
  security: [{ bearer: [] }],
  middleware: [requireScope("admin")] as const,
  request: {
    params: idParam,
    body: { required: true, content: { "application/json": { schema: sellerInputSchema } } },
  },
  responses: {
    200: { description: "Updated", content: { "application/json": { schema: seller } } },
    201: {
      description: "Created, with its signing secret",
      content: { "application/json": { schema: seller } },
    },
  },
});

const pending = createRoute({
  method: "get",
  path: "/{id}/pending",
  summary: "Packages waiting for the seller's next notification, and when it is due",
  tags: ["notifications"],
  security: [{ bearer: [] }],
  middleware: [requireScope("read")] as const,
  request: { params: idParam },
  responses: {
    200: {
      description: "The pending window",
      content: {
        "application/json": {
          schema: z.object({
            seller_id: z.string(),
            package_ids: z.array(z.string()),
            first_scan_at: z.string().nullable(),
            last_scan_at: z.string().nullable(),
            due_at: z.string().nullable(),
            undelivered: z.number().int(),
          }),
        },
      },
    },
  },
});

const history = createRoute({
  method: "get",
  path: "/{id}/notifications",
  summary: "The seller's notifications with their delivery status, newest first",
  tags: ["notifications"],
  security: [{ bearer: [] }],
  middleware: [requireScope("read")] as const,
  request: {
    params: idParam,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(200).default(50),
      before: z.iso
        .datetime({ offset: true })
        .optional()
        .describe("created_at of the last item of the previous page"),
    }),
  },
  responses: {
    200: {
      description: "A page of notifications",
      content: { "application/json": { schema: z.object({ notifications: z.array(notification) }) } },
    },
  },
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** `/v1/sellers`. */
export const sellers = createRouter()
  .openapi(put, async (c) => {
    const { id } = c.req.valid("param");
    const input = c.req.valid("json");
    const quietPeriodS = input.quiet_period_s ?? c.var.config.sellerQuietPeriodS;
    const { seller: row, created } = await upsertSeller(c.var.db(), {
      id,
      webhookUrl: input.webhook_url,
      quietPeriodS,
      maxWaitS: input.max_wait_s,
      secret: newSigningSecret(),
      rotate: input.rotate_secret,
    });
    await c.env.SELLER_DEBOUNCER.getByName(objectNames.sellerDebouncer(id)).configure(id, {
      quietMs: quietPeriodS * 1000,
      maxWaitMs: input.max_wait_s === null ? null : input.max_wait_s * 1000,
    });
    const body = {
      id: row.id,
      webhook_url: row.webhookUrl,
      quiet_period_s: row.quietPeriodS,
      max_wait_s: row.maxWaitS,
      ...(created || input.rotate_secret ? { signing_secret: row.signingSecret } : {}),
    };
    return created ? c.json(body, 201) : c.json(body, 200);
  })
  .openapi(pending, async (c) => {
    const { id } = c.req.valid("param");
    const view = await c.env.SELLER_DEBOUNCER.getByName(objectNames.sellerDebouncer(id)).pending();
    return c.json(
      {
        seller_id: id,
        package_ids: view.packageIds,
        first_scan_at: iso(view.firstScanAt),
        last_scan_at: iso(view.lastScanAt),
        due_at: iso(view.dueAt),
        undelivered: view.undelivered,
      },
      200,
    );
  })
  .openapi(history, async (c) => {
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    const rows = await listNotifications(c.var.db(), id, q.limit, q.before ? new Date(q.before) : undefined);
    return c.json({ notifications: rows.map(notificationJson) }, 200);
  });

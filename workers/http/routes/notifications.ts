import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../../src/errors";
import { resetForRedelivery } from "../../../src/notifications/repo";
import type { NotificationMessage } from "../../../src/notifications/schemas";
import { createRouter } from "../context";
import { requireScope } from "../middleware/auth";
import { notificationJson } from "./sellers";

const route = createRoute({
  method: "post",
  path: "/{id}/redeliver",
  summary: "Deliver a notification again",
  description: "Puts the notification back to pending and queues one more round of delivery attempts.",
  tags: ["notifications"],
  security: [{ bearer: [] }],
  middleware: [requireScope("admin")] as const,
  request: { params: z.object({ id: z.string().min(1).max(200) }) },
  responses: {
    202: {
      description: "Queued",
      content: { "application/json": { schema: z.object({ notification: z.unknown() }) } },
    },
    404: { description: "No such notification" },
  },
});

/** `/v1/notifications`. */
export const notifications = createRouter().openapi(route, async (c) => {
  const { id } = c.req.valid("param");
  const row = await resetForRedelivery(c.var.db(), id);
  if (!row) throw new AppError("not_found", `notification '${id}' does not exist`);
  const message: NotificationMessage = { v: 1, notificationId: id };
  await c.env.NOTIFICATIONS.send(message);
  return c.json({ notification: notificationJson(row) }, 202);
});

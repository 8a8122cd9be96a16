import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../../src/errors";
import { validateScans } from "../../../src/notifications/scans";
import { scanInputSchema } from "../../../src/notifications/schemas";
import { objectNames } from "../../../src/objects/names";
import { createRouter } from "../context";
import { requireScope } from "../middleware/auth";

/** Most scans one request may carry. */
const MAX_SCANS = 1000;

const route = createRoute({
  method: "post",
  path: "/",
  summary: "Record package scans",
  description: `One scan, or \`{"scans": [...]}\` with up to ${MAX_SCANS}. Each seller gets one notification listing its packages once it has been quiet for its quiet period; a new scan restarts the clock, and a package scanned twice is listed once. Bad rows are listed by index; the others are kept.`,
  tags: ["notifications"],
  security: [{ bearer: [] }],
  middleware: [requireScope("ingest")] as const,
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.union([
            z.object({
              scans: z.array(z.unknown()).min(1).max(MAX_SCANS, `must hold at most ${MAX_SCANS} scans`),
            }),
            z.object(scanInputSchema.shape).openapi("Scan"),
          ]),
        },
      },
    },
  },
  responses: {
    202: {
      description: "Scans recorded",
      content: {
        "application/json": {
          schema: z.object({
            accepted: z.number().int(),
            rejected: z.array(z.object({ index: z.number().int(), errors: z.array(z.unknown()) })),
            sellers: z.array(
              z.object({ seller_id: z.string(), pending: z.number().int(), due_at: z.string().nullable() }),
            ),
          }),
        },
      },
    },
  },
});

/** `POST /v1/scans`. */
export const scans = createRouter().openapi(route, async (c) => {
  const body = c.req.valid("json");
  const rows = "scans" in body ? body.scans : [body];
  const { bySeller, accepted, rejected } = validateScans(rows, Date.now(), (index) =>
    "scans" in body ? `body.scans.${index}` : "body",
  );
  if (accepted === 0) {
    throw new AppError(
      "validation_failed",
      "no valid scan in the request",
      rejected.flatMap((r) => r.errors),
    );
  }
  const defaults = { quietMs: c.var.config.sellerQuietPeriodS * 1000, maxWaitMs: null };
  const results = await Promise.allSettled(
    [...bySeller].map(async ([sellerId, list]) => {
      const view = await c.env.SELLER_DEBOUNCER.getByName(objectNames.sellerDebouncer(sellerId)).scan(
        sellerId,
        list,
        defaults,
      );
      return {
        seller_id: sellerId,
        pending: view.packageIds.length,
        due_at: view.dueAt ? new Date(view.dueAt).toISOString() : null,
      };
    }),
  );
  const sellerIds = [...bySeller.keys()];
  const failed = new Set(sellerIds.filter((_, i) => results[i]?.status === "rejected"));
  if (failed.size > 0) {
    c.var.log.error("scans not recorded", { sellers_failed: failed.size });
    // Name exactly the rows not recorded, so a client resends those and not the ones that were:
    // a resent scan whose notification went out meanwhile would start a new one.
    const invalid = new Set(rejected.map((r) => r.index));
    const errors = rows.flatMap((row, index) => {
      const sellerId = (row as { seller_id?: unknown }).seller_id;
      if (invalid.has(index) || typeof sellerId !== "string" || !failed.has(sellerId)) return [];
      const field = "scans" in body ? `body.scans.${index}` : "body";
      return [{ field, rule: "not_recorded", message: `seller ${sellerId}'s pending set did not answer` }];
    });
    throw new AppError(
      "dependency_unavailable",
      "some scans could not be recorded: send the rows named in errors again (the others were recorded)",
      errors,
    );
  }
  const sellers = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  return c.json({ accepted, rejected, sellers }, 202);
});

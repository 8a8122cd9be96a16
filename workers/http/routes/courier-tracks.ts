import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../../src/errors";
import { readTrack } from "../../../src/tracking/repo";
import { courierIdSchema } from "../../../src/tracking/schemas";
import { createRouter } from "../context";
import { requireScope } from "../middleware/auth";

/** Longest range one track request may cover. */
const MAX_RANGE_MS = 7 * 24 * 3600_000;

const route = createRoute({
  method: "get",
  path: "/{id}/track",
  summary: "A courier's track as GeoJSON",
  description: `A LineString of the courier's stored positions between \`from\` and \`to\` (ISO 8601; by default the last hour; at most 7 days), in time order. Long tracks are simplified to about 2,000 points; \`properties\` says how many fixes there were.`,
  tags: ["couriers"],
  security: [{ bearer: [] }],
  middleware: [requireScope("read")] as const,
  request: {
    params: z.object({ id: courierIdSchema }),
    query: z.object({
      from: z.iso.datetime({ offset: true }).optional(),
      to: z.iso.datetime({ offset: true }).optional(),
    }),
  },
  responses: {
    200: {
      description: "A GeoJSON Feature (geometry null when there are no fixes in the range)",
      content: { "application/geo+json": { schema: z.object({ type: z.literal("Feature") }).passthrough() } },
    },
  },
});

/** `GET /v1/couriers/:id/track`. */
export const courierTracks = createRouter().openapi(route, async (c) => {
  const { id } = c.req.valid("param");
  const q = c.req.valid("query");
  const to = q.to ? new Date(q.to) : new Date();
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - 3600_000);
  if (from >= to) {
    throw new AppError("validation_failed", "query.from: must be before to", [
      { field: "query.from", rule: "before_to", message: "must be before to" },
    ]);
  }
  if (to.getTime() - from.getTime() > MAX_RANGE_MS) {
    throw new AppError("validation_failed", "query.from: the range may cover at most 7 days", [
      { field: "query.from", rule: "max_range", message: "the range may cover at most 7 days" },
    ]);
  }
  const track = await readTrack(c.var.db(), id, from, to);
  // GeoJSON's own media type, so map tools recognise it; the typed route only knows JSON bodies.
  return new Response(JSON.stringify(track), {
    status: 200,
    headers: { "content-type": "application/geo+json", "x-request-id": c.var.requestId },
  }) as never;
});

import { createRoute, z } from "@hono/zod-openapi";
import { couriersInBox } from "../../../src/tracking/queries";
import { createRouter } from "../context";
import { requireScope } from "../middleware/auth";
import { liveState, toJson } from "./courier-json";

const boxRoute = createRoute({
  method: "get",
  path: "/live",
  summary: "Live couriers in a bounding box (the map's view)",
  description: "Nearest to the box's centre first, at most `limit`; `total_live` counts every live courier.",
  tags: ["couriers"],
  security: [{ bearer: [] }],
  middleware: [requireScope("read")] as const,
  request: {
    query: z.object({
      bbox: z
        .string()
        .regex(/^-?[\d.]+,-?[\d.]+,-?[\d.]+,-?[\d.]+$/, "must be minLon,minLat,maxLon,maxLat")
        .transform((v) => v.split(",").map(Number) as [number, number, number, number])
        .refine(
          ([minLon, minLat, maxLon, maxLat]) => minLon < maxLon && minLat < maxLat,
          "min must be below max",
        )
        .refine(
          ([minLon, minLat, maxLon, maxLat]) =>
            minLon >= -180 && maxLon <= 180 && minLat >= -85.05112878 && maxLat <= 85.05112878,
          "must lie within ±180 longitude and ±85.05112878 latitude",
        ),
      limit: z.coerce.number().int().min(1).max(2000, "must be <= 2000 (the map cap)").default(1000),
    }),
  },
  responses: {
    200: {
      description: "Live couriers in view",
      content: {
        "application/json": {
          schema: z.object({
            total_live: z.number().int(),
            count: z.number().int(),
            couriers: z.array(liveState),
          }),
        },
      },
    },
  },
});

/** `GET /v1/couriers/live`: what the map shows. */
export const courierLive = createRouter().openapi(boxRoute, async (c) => {
  const { bbox, limit } = c.req.valid("query");
  const [minLon, minLat, maxLon, maxLat] = bbox;
  const found = await couriersInBox(c.var.redis(), {
    minLon,
    minLat,
    maxLon,
    maxLat,
    limit,
    freshAfter: Date.now() - c.var.config.courierStaleAfterS * 1000,
  });
  return c.json(
    { total_live: found.totalLive, count: found.couriers.length, couriers: found.couriers.map(toJson) },
    200,
  );
});

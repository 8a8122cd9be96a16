import { createRoute, z } from "@hono/zod-openapi";
import { engines, nearbyHitSchema, nearbyQuerySchema } from "../../../src/profiles/schemas";
import { nearby } from "../../../src/profiles/service";
import { createRouter } from "../context";
import { requireScope } from "../middleware/auth";

const answer = z
  .object({
    engine: z.enum(engines),
    count: z.number().int(),
    results: z.array(z.object(nearbyHitSchema.shape).openapi("NearbyHit")),
    searched_radius_m: z.number().optional().describe("redis engine: the radius the adaptive search needed"),
    rounds: z.number().int().optional().describe("redis engine: GEOSEARCH calls made, one round trip each"),
  })
  .openapi("NearbyAnswer");

const route = createRoute({
  method: "get",
  path: "/nearby",
  summary: "The nearest profiles within a radius",
  description:
    "The `limit` nearest live profiles within `radius_m` of (`lat`, `lon`), nearest first. Both engines measure great-circle distance on a sphere and return the same ids, except where two distances (or a distance and the radius) differ by less than 1 m + 0.05 % (Redis's geohash precision and Earth radius). The redis engine needs lat within ±85.05112878.",
  tags: ["profiles"],
  security: [{ bearer: [] }],
  middleware: [requireScope("read")] as const,
  request: { query: nearbyQuerySchema },
  responses: {
    200: { description: "Nearest first", content: { "application/json": { schema: answer } } },
  },
});

/** `GET /v1/profiles/nearby`. */
export const profilesNearby = createRouter().openapi(route, async (c) => {
  const q = c.req.valid("query");
  const result = await nearby(
    { db: c.var.db(), redis: c.var.redis() },
    { lat: q.lat, lon: q.lon, radiusM: q.radius_m, limit: q.limit, engine: q.engine },
  );
  return c.json(
    {
      engine: result.engine,
      count: result.hits.length,
      results: result.hits,
      ...(result.searchedRadiusM !== undefined ? { searched_radius_m: result.searchedRadiusM } : {}),
      ...(result.rounds !== undefined ? { rounds: result.rounds } : {}),
    },
    200,
  );
});

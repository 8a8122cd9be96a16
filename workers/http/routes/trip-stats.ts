import { createRoute, z } from "@hono/zod-openapi";
import { tripGroups } from "../../../src/trips/repo";
import { weeklyAverage } from "../../../src/trips/service";
import { createRouter } from "../context";
import { requireScope } from "../middleware/auth";

const date = z.iso.date();
const region = z.string().min(1).max(64);

const averageRoute = createRoute({
  method: "get",
  path: "/weekly-average",
  summary: "Weekly average number of trips for a region or a bounding box",
  description:
    "Trips (of a `region`, or whose origin lies in `bbox=minLon,minLat,maxLon,maxLat`) divided by the ISO weeks in the range: the weeks of `from` to `to` inclusive when given, else from the week of the first to the week of the last matching trip. Answered from rollups; for a box, cells its edge crosses are settled trip by trip.",
  tags: ["trips"],
  security: [{ bearer: [] }],
  middleware: [requireScope("read")] as const,
  request: {
    query: z
      .object({
        region: region.optional(),
        bbox: z
          .string()
          .regex(/^-?[\d.]+,-?[\d.]+,-?[\d.]+,-?[\d.]+$/, "must be minLon,minLat,maxLon,maxLat")
          .transform((v) => v.split(",").map(Number) as [number, number, number, number])
          .refine(([a, b, c2, d]) => a < c2 && b < d, "min must be below max")
          .optional(),
        from: date.optional(),
        to: date.optional(),
      })
      .refine((q) => (q.region === undefined) !== (q.bbox === undefined), {
        message: "give exactly one of region or bbox",
        path: ["region"],
      }),
  },
  responses: {
    200: {
      description: "The average and what it is made of",
      content: {
        "application/json": {
          schema: z.object({
            trips: z.number().int(),
            weeks: z.number().int(),
            weekly_average: z.number(),
            from_week: z.string().nullable(),
            to_week: z.string().nullable(),
          }),
        },
      },
    },
  },
});

const groupsRoute = createRoute({
  method: "get",
  path: "/groups",
  summary: "Groups of similar trips",
  description:
    "Trips with the same origin cell, destination cell (H3, `TRIPS_H3_RESOLUTION`) and 3-hour time-of-day bucket, largest first, with their count and mean origin and destination.",
  tags: ["trips"],
  security: [{ bearer: [] }],
  middleware: [requireScope("read")] as const,
  request: {
    query: z.object({
      region: region.optional(),
      min_trips: z.coerce.number().int().min(1).default(1),
      limit: z.coerce.number().int().min(1).max(1000, "must be <= 1000 (the page cap)").default(100),
    }),
  },
  responses: {
    200: {
      description: "Groups",
      content: {
        "application/json": { schema: z.object({ groups: z.array(z.record(z.string(), z.unknown())) }) },
      },
    },
  },
});

/** `/v1/trips/weekly-average` and `/v1/trips/groups`. */
export const tripStats = createRouter()
  .openapi(averageRoute, async (c) => {
    const q = c.req.valid("query");
    const scope = q.bbox
      ? { bbox: { minLon: q.bbox[0], minLat: q.bbox[1], maxLon: q.bbox[2], maxLat: q.bbox[3] } }
      : { region: q.region as string };
    const range = { ...(q.from ? { from: q.from } : {}), ...(q.to ? { to: q.to } : {}) };
    return c.json(await weeklyAverage(c.var.db(), scope, range, c.var.config.tripsH3Resolution), 200);
  })
  .openapi(groupsRoute, async (c) => {
    const q = c.req.valid("query");
    const groups = await tripGroups(c.var.db(), q.region ?? null, q.min_trips, q.limit);
    return c.json({ groups }, 200);
  });

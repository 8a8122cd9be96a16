import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../../src/errors";
import { objectNames } from "../../../src/objects/names";
import { MAX_LIMIT, MAX_RADIUS_M } from "../../../src/profiles/schemas";
import { listCouriers, nearbyCouriers } from "../../../src/tracking/queries";
import { courierIdSchema, courierStates } from "../../../src/tracking/schemas";
import { createRouter } from "../context";
import { requireScope } from "../middleware/auth";
import { liveState, toJson } from "./courier-json";

const nearbyRoute = createRoute({
  method: "get",
  path: "/nearby",
  summary: "Live couriers nearest to a point",
  description:
    "From the live Redis index; couriers not seen within the staleness window (`COURIER_STALE_AFTER_S`) are left out.",
  tags: ["couriers"],
  security: [{ bearer: [] }],
  middleware: [requireScope("read")] as const,
  request: {
    query: z.object({
      lat: z.coerce.number().min(-85.05112878).max(85.05112878),
      lon: z.coerce.number().min(-180).max(180),
      radius_m: z.coerce.number().positive().max(MAX_RADIUS_M, `must be <= ${MAX_RADIUS_M} (the radius cap)`),
      limit: z.coerce
        .number()
        .int()
        .min(1)
        .max(MAX_LIMIT, `must be <= ${MAX_LIMIT} (the limit cap)`)
        .default(20),
      state: z.enum(courierStates).optional(),
    }),
  },
  responses: {
    200: {
      description: "Nearest first",
      content: {
        "application/json": {
          schema: z.object({
            count: z.number().int(),
            results: z.array(liveState.extend({ distance_m: z.number() })),
          }),
        },
      },
    },
  },
});

const listRoute = createRoute({
  method: "get",
  path: "/",
  summary: "Live couriers by delivery state",
  description:
    "By default the couriers on a delivery (`to_pickup`, `to_dropoff`); `state` picks one state. Pages in courier id order: pass `next` back as `after`.",
  tags: ["couriers"],
  security: [{ bearer: [] }],
  middleware: [requireScope("read")] as const,
  request: {
    query: z.object({
      state: z.enum(courierStates).optional(),
      limit: z.coerce.number().int().min(1).max(500, "must be <= 500 (the page cap)").default(100),
      after: courierIdSchema.optional(),
    }),
  },
  responses: {
    200: {
      description: "A page of live couriers",
      content: {
        "application/json": {
          schema: z.object({
            count: z.number().int(),
            couriers: z.array(liveState),
            next: z.string().nullable(),
          }),
        },
      },
    },
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/{id}",
  summary: "A courier's live state",
  description:
    "Read from the courier's own Durable Object, so it is current even while Redis or Postgres is down.",
  tags: ["couriers"],
  security: [{ bearer: [] }],
  middleware: [requireScope("read")] as const,
  request: { params: z.object({ id: courierIdSchema }) },
  responses: {
    200: {
      description: "The live state",
      content: {
        "application/json": {
          schema: liveState.extend({
            pending_fixes: z
              .number()
              .int()
              .describe("fixes buffered in the courier's object, not yet in Postgres"),
          }),
        },
      },
    },
    404: { description: "No fix was ever received for this courier" },
  },
});

/** `/v1/couriers`: live courier state. */
export const couriers = createRouter()
  .openapi(nearbyRoute, async (c) => {
    const q = c.req.valid("query");
    const freshAfter = Date.now() - c.var.config.courierStaleAfterS * 1000;
    const found = await nearbyCouriers(c.var.redis(), {
      lat: q.lat,
      lon: q.lon,
      radiusM: q.radius_m,
      limit: q.limit,
      freshAfter,
      ...(q.state ? { state: q.state } : {}),
    });
    return c.json(
      { count: found.length, results: found.map((f) => ({ ...toJson(f), distance_m: f.distanceM })) },
      200,
    );
  })
  .openapi(listRoute, async (c) => {
    const q = c.req.valid("query");
    const page = await listCouriers(c.var.redis(), {
      states: q.state ? [q.state] : ["to_pickup", "to_dropoff"],
      freshAfter: Date.now() - c.var.config.courierStaleAfterS * 1000,
      limit: q.limit,
      ...(q.after ? { after: q.after } : {}),
    });
    return c.json({ count: page.couriers.length, couriers: page.couriers.map(toJson), next: page.next }, 200);
  })
  .openapi(getRoute, async (c) => {
    const { id } = c.req.valid("param");
    const track = c.env.COURIER_TRACK.getByName(objectNames.courierTrack(id));
    const [state, pending] = await Promise.all([track.state(), track.pending()]);
    if (!state) throw new AppError("not_found", `courier '${id}' has sent no fixes`);
    return c.json({ ...toJson(state), pending_fixes: pending }, 200);
  });

import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../../src/errors";
import { objectNames } from "../../../src/objects/names";
import { courierIdSchema, courierStates } from "../../../src/tracking/schemas";
import { createRouter } from "../context";
import { requireScope } from "../middleware/auth";

const liveState = z
  .object({
    courier_id: z.string(),
    lat: z.number(),
    lon: z.number(),
    recorded_at: z.string().describe("time of the newest fix (ISO 8601)"),
    last_seen_at: z.string().describe("when the newest delivery of fixes arrived (ISO 8601)"),
    speed_mps: z.number().nullable(),
    heading_deg: z.number().nullable(),
    state: z.enum(courierStates).nullable(),
    task_id: z.string().nullable(),
    pending_fixes: z.number().int().describe("fixes buffered in the courier's object, not yet in Postgres"),
  })
  .openapi("CourierLiveState");

const getCourier = createRoute({
  method: "get",
  path: "/{id}",
  summary: "A courier's live state",
  description:
    "Read from the courier's own Durable Object, so it is current even while Redis or Postgres is down.",
  tags: ["couriers"],
  security: [{ bearer: [] }],
  middleware: [requireScope("read")] as const,
  request: { params: z.object({ id: courierIdSchema.openapi({ param: { name: "id", in: "path" } }) }) },
  responses: {
    200: { description: "The live state", content: { "application/json": { schema: liveState } } },
    404: { description: "No fix was ever received for this courier" },
  },
});

/** `/v1/couriers`: live courier state. */
export const couriers = createRouter().openapi(getCourier, async (c) => {
  const { id } = c.req.valid("param");
  const track = c.env.COURIER_TRACK.getByName(objectNames.courierTrack(id));
  const [state, pending] = await Promise.all([track.state(), track.pending()]);
  if (!state) throw new AppError("not_found", `courier '${id}' has sent no fixes`);
  return c.json(
    {
      courier_id: state.courierId,
      lat: state.lat,
      lon: state.lon,
      recorded_at: new Date(state.recordedAt).toISOString(),
      last_seen_at: new Date(state.lastSeenAt).toISOString(),
      speed_mps: state.speedMps,
      heading_deg: state.headingDeg,
      state: state.state as (typeof courierStates)[number] | null,
      task_id: state.taskId,
      pending_fixes: pending,
    },
    200,
  );
});

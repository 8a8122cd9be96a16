import { z } from "@hono/zod-openapi";
import type { LiveState } from "../../../src/tracking/live";
import { courierStates } from "../../../src/tracking/schemas";

/** A courier's live state as the API returns it. */
export const liveState = z
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
  })
  .openapi("CourierLiveState");

/** Turns a live state into its API shape. */
export function toJson(s: LiveState) {
  return {
    courier_id: s.courierId,
    lat: s.lat,
    lon: s.lon,
    recorded_at: new Date(s.recordedAt).toISOString(),
    last_seen_at: new Date(s.lastSeenAt).toISOString(),
    speed_mps: s.speedMps,
    heading_deg: s.headingDeg,
    state: s.state as (typeof courierStates)[number] | null,
    task_id: s.taskId,
  };
}

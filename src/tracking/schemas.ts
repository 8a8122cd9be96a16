import { z } from "zod";

/** Redis GEO cannot index latitudes beyond this (Web Mercator's limit). */
export const REDIS_MAX_LAT = 85.05112878;

/** Delivery states a courier reports, in cycle order. */
export const courierStates = ["free", "to_pickup", "to_dropoff", "offline"] as const;

/** Courier ids are short opaque tokens; the limit keeps Durable Object names and Redis keys bounded. */
export const courierIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "must be 1-64 characters of letters, digits, _ . : -");

/** One GPS fix as clients send it. `recorded_at` is ISO 8601 with offset or epoch milliseconds. */
export const fixInputSchema = z.object({
  courier_id: courierIdSchema,
  recorded_at: z.union([z.iso.datetime({ offset: true }), z.number().int().positive()]),
  lat: z
    .number()
    .min(-REDIS_MAX_LAT, `must be >= -${REDIS_MAX_LAT} (the Redis GEO limit)`)
    .max(REDIS_MAX_LAT, `must be <= ${REDIS_MAX_LAT} (the Redis GEO limit)`),
  lon: z.number().min(-180).max(180),
  speed_mps: z.number().min(0).max(100).optional(),
  heading_deg: z.number().min(0).max(360).optional(),
  accuracy_m: z.number().min(0).max(10_000).optional(),
  state: z.enum(courierStates).optional(),
  task_id: z.string().max(64).optional(),
});

/** A validated fix with its time normalised to epoch milliseconds: what queues and objects carry. */
export interface Fix {
  courierId: string;
  recordedAt: number;
  lat: number;
  lon: number;
  speedMps?: number | undefined;
  headingDeg?: number | undefined;
  accuracyM?: number | undefined;
  state?: (typeof courierStates)[number] | undefined;
  taskId?: string | undefined;
}

/** Normalises a validated input fix. */
export function toFix(input: z.infer<typeof fixInputSchema>): Fix {
  return {
    courierId: input.courier_id,
    recordedAt: typeof input.recorded_at === "number" ? input.recorded_at : Date.parse(input.recorded_at),
    lat: input.lat,
    lon: input.lon,
    speedMps: input.speed_mps,
    headingDeg: input.heading_deg,
    accuracyM: input.accuracy_m,
    state: input.state,
    taskId: input.task_id,
  };
}

/** The body of one message on the GPS fixes queue: many fixes, any couriers. */
export const gpsFixesMessageSchema = z.object({
  v: z.literal(1),
  fixes: z
    .array(
      z.object({
        courierId: courierIdSchema,
        recordedAt: z.number().int().positive(),
        lat: z.number().min(-REDIS_MAX_LAT).max(REDIS_MAX_LAT),
        lon: z.number().min(-180).max(180),
        speedMps: z.number().optional(),
        headingDeg: z.number().optional(),
        accuracyM: z.number().optional(),
        state: z.enum(courierStates).optional(),
        taskId: z.string().optional(),
      }),
    )
    .min(1),
});

/** A parsed GPS fixes queue message. */
export type GpsFixesMessage = z.infer<typeof gpsFixesMessageSchema>;

import { z } from "zod";
import { REDIS_MAX_LAT } from "../tracking/schemas";

/** Largest radius a nearby search may ask for, in metres. */
export const MAX_RADIUS_M = 50_000;
/** Largest number of results a nearby search may ask for. */
export const MAX_LIMIT = 100;
/** Largest batch `POST /v1/profiles` accepts. */
export const MAX_BATCH = 1000;

/** The engines that answer nearby searches. */
export const engines = ["redis", "postgis"] as const;
export type Engine = (typeof engines)[number];

export const profileIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "must be 1-64 characters of letters, digits, _ . : -");

const latitude = z
  .number()
  .min(-REDIS_MAX_LAT, `must be >= -${REDIS_MAX_LAT} (the Redis GEO limit)`)
  .max(REDIS_MAX_LAT, `must be <= ${REDIS_MAX_LAT} (the Redis GEO limit)`);
const longitude = z.number().min(-180, "must be >= -180").max(180, "must be <= 180");

/** A profile as clients write it. Latitude is capped at Redis's limit so both engines can index it. */
export const profileInputSchema = z.object({
  id: profileIdSchema,
  name: z.string().min(1).max(200),
  kind: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,31}$/, "must be a lowercase word")
    .default("store"),
  lat: latitude,
  lon: longitude,
  attributes: z.record(z.string(), z.unknown()).default({}),
});

export type ProfileInput = z.infer<typeof profileInputSchema>;

/** The fields `PATCH` may change; `lat` and `lon` travel together. */
export const profilePatchSchema = z
  .object({
    name: z.string().min(1).max(200).optional(),
    kind: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,31}$/, "must be a lowercase word")
      .optional(),
    lat: latitude.optional(),
    lon: longitude.optional(),
    attributes: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((p) => (p.lat === undefined) === (p.lon === undefined), {
    message: "lat and lon must be given together",
    path: ["lat"],
  })
  .refine((p) => Object.values(p).some((v) => v !== undefined), {
    message: "give at least one field to change",
  });

export type ProfilePatch = z.infer<typeof profilePatchSchema>;

/** A stored profile as the API returns it. */
export const profileSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.string(),
  lat: z.number(),
  lon: z.number(),
  attributes: z.record(z.string(), z.unknown()),
  updated_at: z.string(),
});

export type Profile = z.infer<typeof profileSchema>;

/** One nearby result. */
export const nearbyHitSchema = z.object({
  id: z.string(),
  distance_m: z.number(),
  lat: z.number(),
  lon: z.number(),
});

export type NearbyHit = z.infer<typeof nearbyHitSchema>;

/** The query of `GET /v1/profiles/nearby`. */
export const nearbyQuerySchema = z.object({
  lat: z.coerce.number().min(-90, "must be >= -90").max(90, "must be <= 90"),
  lon: z.coerce.number().min(-180, "must be >= -180").max(180, "must be <= 180"),
  radius_m: z.coerce
    .number()
    .positive("must be > 0")
    .max(MAX_RADIUS_M, `must be <= ${MAX_RADIUS_M} (the radius cap)`),
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT, `must be <= ${MAX_LIMIT} (the limit cap)`).default(20),
  engine: z.enum(engines).default("redis"),
});

export type NearbyQuery = z.infer<typeof nearbyQuerySchema>;

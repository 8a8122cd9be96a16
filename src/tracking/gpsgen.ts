import { z } from "zod";
import { fixInputSchema, REDIS_MAX_LAT } from "./schemas";

/**
 * The old GPS generator's delivery states and geoedge's for each: a worker heading to the provider
 * (the pickup) or to the customer (the drop-off), or free.
 */
export const GPSGEN_STATES = { free: "free", to_provider: "to_pickup", to_customer: "to_dropoff" } as const;

export type GpsgenState = keyof typeof GPSGEN_STATES;

const part = "[A-Za-z0-9_.-]";

/**
 * One record of the old GPS generator: `{"id": "LON:12:936", "state": "to_provider", "coord": [lon,
 * lat], "timestamp": <epoch seconds>}`, the id being city, worker and task. The ranges are
 * geoedge's own (a fix's), checked here so errors name the old fields.
 */
export const gpsgenRecordSchema = z.object({
  id: z
    .string()
    .regex(
      new RegExp(`^${part}{1,20}:${part}{1,40}:${part}{1,64}$`),
      "must be CITY:WORKER:TASK, each of letters, digits, _ . - (such as LON:12:936)",
    ),
  state: z.enum(Object.keys(GPSGEN_STATES) as [GpsgenState, ...GpsgenState[]]),
  coord: z.tuple([
    z.number().min(-180, "must be >= -180").max(180, "must be <= 180"),
    z
      .number()
      .min(-REDIS_MAX_LAT, `must be >= -${REDIS_MAX_LAT} (the Redis GEO limit)`)
      .max(REDIS_MAX_LAT, `must be <= ${REDIS_MAX_LAT} (the Redis GEO limit)`),
  ]),
  timestamp: z.number().positive("must be epoch seconds > 0").finite(),
});

export type GpsgenRecord = z.infer<typeof gpsgenRecordSchema>;

/** Whether a row is an old generator's record (it has `coord`, which no geoedge fix has). */
export function isGpsgenRecord(row: unknown): boolean {
  return typeof row === "object" && row !== null && !Array.isArray(row) && "coord" in row;
}

/**
 * A record as a geoedge fix: the courier is the city and the worker (`LON:12`, since worker numbers
 * repeat from city to city), `task_id` the task while on one (a free worker's task number names no
 * delivery), the time in milliseconds.
 */
export function fromGpsgen(record: GpsgenRecord) {
  const [city, worker, task] = record.id.split(":") as [string, string, string];
  const state = GPSGEN_STATES[record.state];
  return {
    courier_id: `${city}:${worker}`,
    recorded_at: Math.round(record.timestamp * 1000),
    lon: record.coord[0],
    lat: record.coord[1],
    state,
    ...(state === "free" ? {} : { task_id: task }),
  };
}

/** The outcome of parsing one row: a geoedge fix's input, or the issues that sank it. */
export type ParsedFixRow =
  | { success: true; data: z.infer<typeof fixInputSchema> }
  | { success: false; error: z.ZodError };

/**
 * Parses a row of `POST /v1/positions`: a geoedge fix, or an old generator's record mapped to one
 * (its errors then name the old fields: `coord.1`, `timestamp`).
 */
export function parseFixRow(row: unknown): ParsedFixRow {
  if (!isGpsgenRecord(row)) return fixInputSchema.safeParse(row);
  const old = gpsgenRecordSchema.safeParse(row);
  return old.success ? fixInputSchema.safeParse(fromGpsgen(old.data)) : old;
}

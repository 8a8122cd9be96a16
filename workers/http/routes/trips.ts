import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../../src/errors";
import { objectNames } from "../../../src/objects/names";
import {
  chunkTripsJson,
  type RejectedRow,
  streamTripsCsv,
  type TripChunkMessage,
} from "../../../src/trips/ingest";
import type { TripRow } from "../../../src/trips/rows";
import { createRouter } from "../context";
import { requireScope } from "../middleware/auth";

/** Rejected rows listed in the answer; the count covers them all. */
const LISTED_REJECTIONS = 100;

const route = createRoute({
  method: "post",
  path: "/",
  summary: "Upload trips (CSV or JSON)",
  description:
    'CSV with the header `region,origin_coord,destination_coord,datetime,datasource` (points as `POINT (lon lat)`, times as `YYYY-MM-DD HH:MM:SS`), streamed rather than read whole; or JSON `{"trips": [...]}` with those fields. Good rows travel through the trips queue in chunks and are written with their H3 cells and time-of-day bucket; bad rows are reported by line. Answers 202 with the ingestion job to follow (status, and server-sent events).',
  tags: ["trips"],
  security: [{ bearer: [] }],
  middleware: [requireScope("ingest")] as const,
  request: {
    body: {
      required: false,
      content: {
        "text/csv": { schema: z.string() },
        "application/json": { schema: z.object({ trips: z.array(z.unknown()) }) },
      },
    },
  },
  responses: {
    202: {
      description: "Accepted; follow the job",
      content: {
        "application/json": {
          schema: z.object({
            job_id: z.string(),
            accepted: z.number().int(),
            rejected_count: z.number().int(),
            rejected: z.array(z.object({ line: z.number().int(), reason: z.string() })),
            status_url: z.string(),
            events_url: z.string(),
          }),
        },
      },
    },
  },
});

/** `POST /v1/trips`. */
export const trips = createRouter().openapi(route, async (c) => {
  const type = c.req.header("content-type") ?? "";
  const isCsv = type.startsWith("text/csv");
  if (!isCsv && !type.startsWith("application/json")) {
    throw new AppError("unsupported_media_type", "send text/csv (with the header row) or application/json");
  }
  const jobId = crypto.randomUUID();
  const job = c.env.INGESTION_JOB.getByName(objectNames.ingestionJob(jobId));
  await job.open(jobId, "trips");
  let accepted = 0;
  let chunk = 0;
  const rejected: RejectedRow[] = [];
  const sink = async (rows: TripRow[], bad: RejectedRow[]) => {
    if (rows.length > 0) {
      const message: TripChunkMessage = { v: 1, jobId, chunkId: String(chunk++), rows };
      await c.env.TRIPS.send(message);
    }
    accepted += rows.length;
    rejected.push(...bad);
    await job.accept(rows.length, bad);
  };
  if (isCsv) {
    if (!c.req.raw.body)
      throw new AppError("validation_failed", "the upload is empty; send a header and rows");
    await streamTripsCsv(c.req.raw.body, sink);
  } else {
    const body = (await c.req.json().catch(() => null)) as { trips?: unknown } | null;
    if (!body || !Array.isArray(body.trips)) {
      throw new AppError("validation_failed", 'send {"trips": [...]}', [
        { field: "body.trips", rule: "required", message: "must be an array of trips" },
      ]);
    }
    await chunkTripsJson(body.trips, sink);
  }
  await job.seal();
  return c.json(
    {
      job_id: jobId,
      accepted,
      rejected_count: rejected.length,
      rejected: rejected.slice(0, LISTED_REJECTIONS),
      status_url: `/v1/ingestion/jobs/${jobId}`,
      events_url: `/v1/ingestion/jobs/${jobId}/events`,
    },
    202,
  );
});

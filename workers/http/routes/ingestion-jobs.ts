import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../../src/errors";
import { objectNames } from "../../../src/objects/names";
import { createRouter } from "../context";
import { requireScope } from "../middleware/auth";

const jobId = z.object({ id: z.uuid() });

const statusRoute = createRoute({
  method: "get",
  path: "/{id}",
  summary: "An ingestion job's progress",
  tags: ["trips"],
  security: [{ bearer: [] }],
  middleware: [requireScope("read")] as const,
  request: { params: jobId },
  responses: {
    200: { description: "Accepted, processed, failed (with reasons), status, timings" },
    404: { description: "No such job" },
  },
});

const eventsRoute = createRoute({
  method: "get",
  path: "/{id}/events",
  summary: "An ingestion job's progress, pushed as server-sent events",
  description: "`progress` events after every change, then one `done` event, and the stream ends.",
  tags: ["trips"],
  security: [{ bearer: [] }],
  middleware: [requireScope("read")] as const,
  request: { params: jobId },
  responses: { 200: { description: "text/event-stream" } },
});

/** `/v1/ingestion/jobs`. */
export const ingestionJobs = createRouter()
  .openapi(statusRoute, async (c) => {
    const { id } = c.req.valid("param");
    const status = await c.env.INGESTION_JOB.getByName(objectNames.ingestionJob(id)).status();
    if (!status) throw new AppError("not_found", `ingestion job '${id}' does not exist`);
    return c.json(status, 200);
  })
  .openapi(eventsRoute, async (c) => {
    const { id } = c.req.valid("param");
    const stream = await c.env.INGESTION_JOB.getByName(objectNames.ingestionJob(id)).subscribe();
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        "x-request-id": c.var.requestId,
      },
    }) as never;
  });

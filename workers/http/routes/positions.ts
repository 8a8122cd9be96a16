import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../../src/errors";
import { gpsgenRecordSchema } from "../../../src/tracking/gpsgen";
import {
  enqueueFixes,
  MAX_FIXES_PER_REQUEST,
  packFixes,
  parseNdjson,
  type RejectedFix,
  validateFixes,
} from "../../../src/tracking/ingest";
import { fixInputSchema } from "../../../src/tracking/schemas";
import { createRouter } from "../context";
import { requireScope } from "../middleware/auth";

/** Rejected rows listed in a response; the count covers them all. */
const LISTED_REJECTIONS = 100;

const accepted = z
  .object({
    accepted: z.number().int(),
    rejected_count: z.number().int(),
    rejected: z
      .array(
        z.object({
          index: z.number().int().optional(),
          line: z.number().int().optional(),
          errors: z.array(z.unknown()),
        }),
      )
      .describe(`the first ${LISTED_REJECTIONS} rejected rows with their reasons`),
    messages: z.number().int().describe("queue messages the accepted fixes travel in"),
  })
  .openapi("PositionsAccepted");

const route = createRoute({
  method: "post",
  path: "/",
  summary: "Send a batch of GPS fixes",
  description: `Up to ${MAX_FIXES_PER_REQUEST} fixes as \`{"fixes": [...]}\` (JSON) or one fix per line (\`application/x-ndjson\`). A row may also be a record of the old GPS generator (\`{"id": "LON:12:936", "state": "to_provider", "coord": [lon, lat], "timestamp": <epoch seconds>}\`), taken as courier \`LON:12\`, task \`936\`, state \`to_pickup\` (see docs/simulator.md). Each fix is validated on its own: good ones are queued (202) and kept until they are in Postgres and Redis, bad ones are listed with the field and rule. Re-sending a batch is harmless: a courier's fix with the same recorded time is stored once.`,
  tags: ["couriers"],
  security: [{ bearer: [] }],
  middleware: [requireScope("ingest")] as const,
  request: {
    body: {
      // Not "required": the validator would then check an NDJSON body against the JSON schema.
      required: false,
      content: {
        "application/json": {
          schema: z.object({
            // Rows are validated one by one in the handler; the union documents the row shape.
            fixes: z
              .array(
                z.union([
                  z.object(fixInputSchema.shape).openapi("Fix"),
                  z.object(gpsgenRecordSchema.shape).openapi("GpsgenRecord"),
                  z.unknown(),
                ]),
              )
              .max(MAX_FIXES_PER_REQUEST, `must hold at most ${MAX_FIXES_PER_REQUEST} fixes`),
          }),
        },
        "application/x-ndjson": { schema: z.string().describe("one fix (JSON object) per line") },
      },
    },
  },
  responses: {
    202: { description: "Accepted fixes are queued", content: { "application/json": { schema: accepted } } },
    400: { description: "No valid fix in the request" },
    503: { description: "The queue is unavailable: nothing was accepted, send the batch again" },
  },
});

async function readRows(
  c: { req: { header(name: string): string | undefined; text(): Promise<string> } },
  json?: {
    fixes: unknown[];
  },
) {
  if (json) return { rows: json.fixes.map((row, index) => ({ row, index })), rejected: [] as RejectedFix[] };
  const type = c.req.header("content-type") ?? "";
  if (!type.startsWith("application/x-ndjson")) {
    throw new AppError("unsupported_media_type", "send application/json or application/x-ndjson");
  }
  const parsed = parseNdjson(await c.req.text());
  if (parsed.rows.length + parsed.rejected.length > MAX_FIXES_PER_REQUEST) {
    throw new AppError("payload_too_large", `a request may carry at most ${MAX_FIXES_PER_REQUEST} fixes`);
  }
  return parsed;
}

/** `POST /v1/positions`. */
export const positions = createRouter().openapi(route, async (c) => {
  const isJson = (c.req.header("content-type") ?? "").startsWith("application/json");
  // With an optional body the validator lets a JSON request without a body through.
  if (isJson && !c.req.valid("json"))
    throw new AppError("validation_failed", 'send {"fixes": [...]}', [
      { field: "body.fixes", rule: "required", message: 'send {"fixes": [...]}' },
    ]);
  const body = isJson ? (c.req.valid("json") as { fixes: unknown[] }) : undefined;
  const { rows, rejected: unparsable } = await readRows(c, body);
  const { fixes, rejected: invalid } = validateFixes(rows, Date.now());
  const rejected = [...unparsable, ...invalid].sort(
    (a, b) => (a.line ?? a.index ?? 0) - (b.line ?? b.index ?? 0),
  );
  if (fixes.length === 0) {
    throw new AppError(
      "validation_failed",
      rejected.length
        ? `no valid fix in the request (${rejected.length} rejected)`
        : "the request holds no fixes",
      rejected.slice(0, LISTED_REJECTIONS).flatMap((r) => r.errors),
    );
  }
  const messages = packFixes(fixes);
  try {
    await enqueueFixes(c.env.GPS_FIXES, messages);
  } catch (error) {
    c.var.log.error("gps fixes not queued", { fixes: fixes.length, error: String(error) });
    throw new AppError("dependency_unavailable", "the fixes could not be queued; send the batch again");
  }
  return c.json(
    {
      accepted: fixes.length,
      rejected_count: rejected.length,
      rejected: rejected.slice(0, LISTED_REJECTIONS),
      messages: messages.length,
    },
    202,
  );
});

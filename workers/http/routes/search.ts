import { createRoute, z } from "@hono/zod-openapi";
import { invalidDateTime } from "../../../src/events/feed";
import { SEARCH_REDIS, searchCatalogue } from "../../../src/events/service";
import { rootMessage } from "../../../src/log";
import { createRedis } from "../../../src/redis/client";
import { databaseScope } from "../../../src/redis/keys";
import { createRouter } from "../context";

// The search contract compares the provider's local wall-clock times; an offset in the query is
// accepted (the contract's examples carry `Z`) and the date and time are compared as written.
const dateTime = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/,
    "must be an ISO 8601 date-time such as 2021-07-21T17:32:28Z",
  )
  .refine((v) => invalidDateTime(v.slice(0, 19)) === undefined, "must be a real date and time");

// A range that ends before it starts is a client's mistake, not an empty answer. Both ends are
// compared as written (date and time, offset aside), the way the search compares events.
const query = z
  .object({ starts_at: dateTime.optional(), ends_at: dateTime.optional() })
  .refine((q) => !q.starts_at || !q.ends_at || q.starts_at.slice(0, 19) <= q.ends_at.slice(0, 19), {
    message: "must not be after ends_at",
    path: ["starts_at"],
  });

const event = z
  .object({
    id: z.string().uuid(),
    title: z.string(),
    start_date: z.string(),
    start_time: z.string().nullable(),
    end_date: z.string().nullable(),
    end_time: z.string().nullable(),
    min_price: z.number().nullable(),
    max_price: z.number().nullable(),
  })
  .openapi("EventSummary");

const contractError = z
  .object({ data: z.null(), error: z.object({ code: z.string(), message: z.string() }) })
  .openapi("SearchError");

const route = createRoute({
  method: "get",
  path: "/",
  summary: "Events ever sold online in a time range",
  description:
    "Events that were ever sold online, starting at or after `starts_at` and ending at or before `ends_at` (both optional), from the catalogue geoedge keeps: the provider is never called, so answers stay fast while it is slow or down. Keeps the marketplace's search contract: `{data, error}`.",
  tags: ["events"],
  request: { query },
  responses: {
    200: {
      description: "The events",
      content: {
        "application/json": {
          schema: z.object({ data: z.object({ events: z.array(event) }), error: z.null() }),
        },
      },
    },
    400: { description: "Invalid parameters", content: { "application/json": { schema: contractError } } },
    500: { description: "Unexpected error", content: { "application/json": { schema: contractError } } },
  },
});

const fail = (code: string, message: string) => ({ data: null, error: { code, message } });

/**
 * The visitor's own `Accept-Encoding`. Cloudflare's edge (and Miniflare, which emulates it) rewrites
 * the header the Worker sees to `br, gzip` and keeps the visitor's in `cf.clientAcceptEncoding`
 * (empty when the visitor sent none): a pre-compressed answer must follow that one, or a client that
 * asked for nothing, plain `curl` say, is sent gzip bytes. Without `cf` (a direct call), the header.
 */
function clientAcceptEncoding(request: Request): string | undefined {
  const cf = request.cf as { clientAcceptEncoding?: string } | undefined;
  return cf?.clientAcceptEncoding ?? request.headers.get("accept-encoding") ?? undefined;
}

/** Whether an `Accept-Encoding` header accepts gzip (named or `*`, with a weight above 0). */
function acceptsGzip(header: string | undefined): boolean {
  for (const part of (header ?? "").toLowerCase().split(",")) {
    const [coding, ...params] = part.split(";").map((p) => p.trim());
    if (coding !== "gzip" && coding !== "*") continue;
    const q = params.find((p) => p.startsWith("q="));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

/** `GET /search`: the one route that keeps the search contract's own error shape. */
export const search = createRouter().openapi(
  route,
  async (c) => {
    const q = c.req.valid("query");
    const config = c.var.config;
    try {
      const answer = await searchCatalogue(
        {
          db: c.var.db,
          // Its own lean client, built only if the isolate's copy of the answer needs confirming.
          redis: () => createRedis(config, SEARCH_REDIS),
          log: c.var.log,
          scope: databaseScope(config.databaseUrl),
        },
        q.starts_at?.slice(0, 19) ?? null,
        q.ends_at?.slice(0, 19) ?? null,
        { gzip: acceptsGzip(clientAcceptEncoding(c.req.raw)) },
      );
      // Headers through Hono, so the middleware's (X-Request-Id) are kept; the body as bytes the
      // runtime sends as they are ("manual"), since a gzip answer is compressed already.
      const { headers } = c.body(null, 200, {
        "content-type": "application/json",
        "x-cache": answer.cache,
        vary: "accept-encoding",
        ...(answer.encoding === "gzip" ? { "content-encoding": "gzip" } : {}),
      });
      return new Response(answer.body, { status: 200, headers, encodeBody: "manual" }) as never;
    } catch (error) {
      c.var.log.error("search failed", { error: rootMessage(error) });
      return c.json(fail("internal_error", "the search failed; quote the request id when reporting it"), 500);
    }
  },
  (result, c) => {
    if (!result.success) {
      const issue = result.error.issues[0];
      const field = issue?.path.join(".") ?? "query";
      return c.json(fail("invalid_parameter", `${field}: ${issue?.message ?? "invalid"}`), 400);
    }
  },
);

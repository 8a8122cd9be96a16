import { createRoute, z } from "@hono/zod-openapi";
import { readPullStatus } from "../../../src/events/repo";
import { createRouter } from "../context";
import { requireScope } from "../middleware/auth";

const route = createRoute({
  method: "get",
  path: "/",
  summary: "The last pull of the events provider",
  tags: ["admin"],
  security: [{ bearer: [] }],
  middleware: [requireScope("admin")] as const,
  responses: {
    200: {
      description: "Last fetch time, status, duration, events seen, last error",
      content: {
        "application/json": {
          schema: z.object({
            provider_url: z.string().nullable(),
            last_fetch_at: z.string().nullable(),
            last_success_at: z.string().nullable(),
            status: z.string().describe("ok, provider_error, invalid_feed, database_error, or never"),
            duration_ms: z.number().nullable(),
            events_seen: z.number().nullable(),
            events_changed: z.number().nullable(),
            skipped: z.number().nullable(),
            last_error: z.string().nullable(),
          }),
        },
      },
    },
  },
});

/** `GET /v1/admin/provider`. */
export const adminProvider = createRouter().openapi(route, async (c) => {
  const s = await readPullStatus(c.var.db());
  return c.json(
    {
      provider_url: c.var.config.provider.url ?? null,
      last_fetch_at: s?.last_fetch_at ?? null,
      last_success_at: s?.last_success_at ?? null,
      status: s?.status ?? "never",
      duration_ms: s?.duration_ms ?? null,
      events_seen: s?.events_seen ?? null,
      events_changed: s?.events_changed ?? null,
      skipped: s?.skipped ?? null,
      last_error: s?.last_error ?? null,
    },
    200,
  );
});

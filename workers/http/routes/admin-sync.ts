import { createRoute, z } from "@hono/zod-openapi";
import { requestRebuild, runProfileSync } from "../../../src/profiles/sync";
import { profileSyncStatus } from "../../../src/profiles/sync-status";
import { createRouter } from "../context";
import { requireScope } from "../middleware/auth";

const status = z
  .object({
    watermark: z
      .string()
      .nullable()
      .describe("when the sync last had every committed change in the index (a backlog or a rebuild aside)"),
    lag_ms: z.number().nullable().describe("newest change in Postgres minus the watermark"),
    last_run_at: z.string().nullable(),
    last_applied: z.number().int(),
    last_error: z.object({ message: z.string(), at: z.string() }).nullable(),
    counts: z.object({
      postgres_live: z.number().int(),
      postgres_tombstoned: z.number().int(),
      redis_indexed: z.number().int(),
    }),
    backlog: z
      .object({ running: z.boolean(), applied: z.number().int() })
      .describe(
        "changes too many for one run (a bulk load the sync indexes itself), applied after the fresh ones",
      ),
    rebuild: z.object({
      running: z.boolean(),
      in_place: z.boolean().describe("building straight into the live key, which Redis had lost"),
      indexed: z.number().int(),
      started_at: z.string().nullable(),
      last_finished_at: z.string().nullable(),
    }),
  })
  .openapi("ProfileSyncStatus");

const run = z
  .object({
    applied: z.number().int(),
    removed: z.number().int(),
    more: z.boolean().describe("work is left for the next run"),
    skipped: z.literal("locked").optional(),
    rebuilt: z.object({ indexed: z.number().int(), done: z.boolean() }).optional(),
    error: z.string().optional(),
  })
  .openapi("ProfileSyncRun");

const getStatus = createRoute({
  method: "get",
  path: "/",
  summary: "State of the Postgres → Redis profile sync",
  tags: ["admin"],
  security: [{ bearer: [] }],
  middleware: [requireScope("admin")] as const,
  responses: {
    200: {
      description: "Watermark, lag, counts, errors",
      content: { "application/json": { schema: status } },
    },
  },
});

const trigger = createRoute({
  method: "post",
  path: "/",
  summary: "Run the profile sync now, or start a full rebuild",
  description:
    "Without `full`, runs the sync once, as the cron does: changes since the watermark, then a share of any backlog or rebuild (one budget of pages). With `full: true`, first starts a rebuild into a separate key that replaces the live index atomically when complete; the cron (or further calls) carry it on.",
  tags: ["admin"],
  security: [{ bearer: [] }],
  middleware: [requireScope("admin")] as const,
  request: {
    body: {
      required: false,
      content: { "application/json": { schema: z.object({ full: z.boolean().default(false) }) } },
    },
  },
  responses: {
    200: {
      description: "What the run did, and the status after it",
      content: { "application/json": { schema: z.object({ run, status }) } },
    },
  },
});

/** `/v1/admin/sync/profiles`. */
export const adminSync = createRouter()
  .openapi(getStatus, async (c) =>
    c.json(await profileSyncStatus({ db: c.var.db(), redis: c.var.redis() }), 200),
  )
  .openapi(trigger, async (c) => {
    const body = c.req.header("content-length") === "0" ? { full: false } : c.req.valid("json");
    const deps = { db: c.var.db(), redis: c.var.redis(), log: c.var.log };
    if (body?.full) await requestRebuild(deps);
    const result = await runProfileSync(deps);
    return c.json({ run: result, status: await profileSyncStatus(deps) }, 200);
  });

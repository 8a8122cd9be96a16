import { createRoute, z } from "@hono/zod-openapi";
import { checkHealth } from "../../../src/health/service";
import { createRouter } from "../context";

const dependency = z
  .object({
    status: z.enum(["up", "down"]),
    latency_ms: z.number(),
    error: z.string().optional(),
    version: z.string().optional(),
  })
  .openapi("DependencyStatus");

const report = z
  .object({
    status: z.enum(["up", "down"]),
    checks: z.object({ redis: dependency, postgres: dependency }),
  })
  .openapi("HealthReport");

const route = createRoute({
  method: "get",
  path: "/",
  summary: "Liveness of the API and its dependencies",
  description: "Pings Redis and Postgres concurrently. 503 names the dependency that is down.",
  tags: ["operations"],
  responses: {
    200: { description: "Everything is up", content: { "application/json": { schema: report } } },
    503: { description: "A dependency is down", content: { "application/json": { schema: report } } },
  },
});

/** `GET /health`. */
export const health = createRouter().openapi(route, async (c) => {
  const result = await checkHealth({ redis: c.var.redis(), db: c.var.db() });
  if (result.status === "down") {
    const down = Object.entries(result.checks)
      .filter(([, v]) => v.status === "down")
      .map(([k]) => k);
    c.var.log.warn("health check failed", { down });
    return c.json(result, 503);
  }
  return c.json(result, 200);
});

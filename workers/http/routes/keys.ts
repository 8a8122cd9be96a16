import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../../src/errors";
import { createRouter } from "../context";
import { requireScope } from "../middleware/auth";

const identity = z
  .object({ key_id: z.string(), scopes: z.array(z.enum(["ingest", "read", "admin"])) })
  .openapi("KeyIdentity");

const route = createRoute({
  method: "get",
  path: "/",
  summary: "The API key making the request",
  description: "Lets a client check its key and scopes before it sends data.",
  tags: ["keys"],
  security: [{ bearer: [] }],
  middleware: [requireScope("read")] as const,
  responses: {
    200: { description: "The key's id and scopes", content: { "application/json": { schema: identity } } },
  },
});

/** `GET /v1/whoami`. */
export const keys = createRouter().openapi(route, (c) => {
  const key = c.var.apiKey;
  if (!key) throw new AppError("unauthorized", "no API key on the request");
  return c.json({ key_id: key.id, scopes: key.scopes }, 200);
});

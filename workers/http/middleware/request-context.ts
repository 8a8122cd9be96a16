import { createMiddleware } from "hono/factory";
import { loadConfig } from "../../../src/config";
import { createDb, type DbHandle } from "../../../src/db/client";
import { createLogger } from "../../../src/log";
import { createRedis, type Redis } from "../../../src/redis/client";
import type { AppEnv } from "../context";

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Gives every request an id (the caller's `X-Request-Id` when well formed), its config, a logger
 * carrying the id, and lazily opened clients whose sockets are closed after the response.
 */
export const requestContext = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header("x-request-id");
  const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
  c.set("requestId", requestId);
  c.header("X-Request-Id", requestId);
  const started = Date.now();
  const config = loadConfig(c.env);
  c.set("config", config);
  const log = createLogger(config.logLevel, { request_id: requestId });
  c.set("log", log);
  let handle: DbHandle | undefined;
  let redis: Redis | undefined;
  c.set("db", () => {
    handle ??= createDb(config);
    return handle.db;
  });
  c.set("redis", () => {
    redis ??= createRedis(config);
    return redis;
  });
  try {
    await next();
  } finally {
    if (handle) {
      const closing = handle.close().catch(() => {});
      try {
        c.executionCtx.waitUntil(closing);
      } catch {
        await closing;
      }
    }
    log.info("request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Date.now() - started,
    });
  }
});

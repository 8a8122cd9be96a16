import { createMiddleware } from "hono/factory";
import { type ApiKey, findKey, hasScope, prepareKeys, type Scope } from "../../../src/auth/api-keys";
import type { Config } from "../../../src/config";
import { AppError } from "../../../src/errors";
import type { AppEnv } from "../context";

const prepared = new WeakMap<Config, Promise<ApiKey[]>>();

/**
 * Requires `Authorization: Bearer <key>` with `scope`. Writes are also rate-limited per key, so one
 * client cannot starve the others.
 */
export function requireScope(scope: Scope) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw new AppError("unauthorized", "send an API key as 'Authorization: Bearer <key>'");
    const config = c.var.config;
    let keys = prepared.get(config);
    if (!keys) {
      keys = prepareKeys(config.apiKeys);
      prepared.set(config, keys);
    }
    const key = await findKey(await keys, match[1]);
    if (!key) throw new AppError("unauthorized", "the API key is not valid");
    if (!hasScope(key, scope)) throw new AppError("forbidden", `this API key lacks the '${scope}' scope`);
    c.set("apiKey", key);
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      const { success } = await c.env.WRITE_LIMITER.limit({ key: key.id });
      if (!success) throw new AppError("rate_limited", `write rate limit reached for key '${key.id}'`);
    }
    await next();
  });
}

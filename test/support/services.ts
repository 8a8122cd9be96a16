import { env } from "cloudflare:workers";
import { loadConfig } from "../../src/config";
import { createDb, type DbHandle } from "../../src/db/client";
import { createRedis, type Redis } from "../../src/redis/client";

/** The real local Postgres (test database) through the production client; end it after use. */
export function testDb(): DbHandle {
  return createDb(loadConfig(env), 2);
}

/** The real local Redis through the production client and the Upstash bridge. */
export function testRedis(): Redis {
  return createRedis(loadConfig(env));
}

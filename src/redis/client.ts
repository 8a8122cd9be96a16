import { Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../config";

/**
 * Creates the Upstash Redis client for one invocation. Its replies are JSON-parsed where that
 * round-trips exactly, so a member "123" arrives as the number 123: read members and hash values
 * through `String()`.
 */
export function createRedis(config: Pick<Config, "redis">): Redis {
  const { url, token, retries } = config.redis;
  return new Redis({
    url,
    token,
    enableTelemetry: false,
    retry: { retries, backoff: (attempt) => Math.min(50 * 2 ** attempt, 1000) },
  });
}

export type { Redis };

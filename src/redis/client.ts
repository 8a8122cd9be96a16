import { Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../config";

/** How a client talks to the REST API. The defaults are the client library's. */
export interface RedisOptions {
  /**
   * Batch the commands issued in the same tick into one request (default on). A caller that sends
   * one command at a time gains nothing from it and pays for building a pipeline per command.
   */
  autoPipelining?: boolean;
  /**
   * Ask for replies as plain JSON rather than base64 (default off). Only for replies known to be
   * UTF-8 text; it saves the Worker decoding them, which for a large value costs more CPU than
   * reading it.
   */
  plainReplies?: boolean;
}

/**
 * Creates the Upstash Redis client for one invocation. Its replies are JSON-parsed where that
 * round-trips exactly, so a member "123" arrives as the number 123: read members and hash values
 * through `String()`.
 */
export function createRedis(config: Pick<Config, "redis">, options: RedisOptions = {}): Redis {
  const { url, token, retries } = config.redis;
  return new Redis({
    url,
    token,
    enableTelemetry: false,
    enableAutoPipelining: options.autoPipelining ?? true,
    ...(options.plainReplies ? { responseEncoding: false } : {}),
    retry: { retries, backoff: (attempt) => Math.min(50 * 2 ** attempt, 1000) },
  });
}

export type { Redis };

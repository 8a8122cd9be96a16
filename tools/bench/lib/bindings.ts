import type { StackHandle } from "../../stack/stack";

/**
 * The Worker's vars and secrets for a benchmark: the stack's Redis bridge, `database` through the
 * stack's PgBouncer (as a deployed Worker reaches Neon's pooled endpoint), one API key with
 * `scopes`, and warnings only in the log (a JSON line per request would flood the run's output).
 */
export function benchBindings(
  stack: StackHandle,
  database: string,
  apiKey: string,
  scopes: string[],
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ENVIRONMENT: "development",
    LOG_LEVEL: "warn",
    DATABASE_URL: stack.postgres.pooledUrl(database),
    UPSTASH_REDIS_REST_URL: stack.bridge.url,
    UPSTASH_REDIS_REST_TOKEN: stack.bridge.token(database),
    NEON_LOCAL_PROXY: stack.proxy,
    REDIS_RETRIES: "0",
    API_KEYS: JSON.stringify([{ id: "bench", key: apiKey, scopes }]),
    ...extra,
  };
}

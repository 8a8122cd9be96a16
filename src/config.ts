import { z } from "zod";
import { AppError } from "./errors";
import type { LogLevel } from "./log";

const seconds = z.coerce.number().int().positive();

const apiKeySchema = z
  .object({
    id: z.string().min(1),
    key: z.string().min(16).optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    scopes: z.array(z.enum(["ingest", "read", "admin"])).min(1),
  })
  .refine((k) => Boolean(k.key) !== Boolean(k.sha256), "give exactly one of key or sha256");

const schema = z.object({
  ENVIRONMENT: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL"),
  UPSTASH_REDIS_REST_URL: z.url(),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1),
  NEON_LOCAL_PROXY: z
    .string()
    .regex(/^(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+$/, "must be a loopback host:port")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  REDIS_RETRIES: z.coerce.number().int().min(0).max(10).optional(),
  API_KEYS: z
    .string()
    .transform((raw, ctx) => {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "must be a JSON array" });
        return z.NEVER;
      }
    })
    .pipe(z.array(apiKeySchema)),
  COURIER_STALE_AFTER_S: seconds.default(300),
  POSITIONS_RETENTION_DAYS: z.coerce.number().int().positive().default(30),
  SELLER_QUIET_PERIOD_S: seconds.default(3600),
  PROVIDER_URL: z.url().optional(),
  PROVIDER_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  TRIPS_H3_RESOLUTION: z.coerce.number().int().min(5).max(10).default(8),
});

/** One API key as configured: either the key itself (dev) or its SHA-256 (production). */
export type ApiKeyConfig = z.infer<typeof apiKeySchema>;

/** The typed configuration of every invocation, parsed once per isolate from vars and secrets. */
export interface Config {
  environment: "development" | "test" | "production";
  logLevel: LogLevel;
  databaseUrl: string;
  redis: { url: string; token: string; retries: number };
  neonLocalProxy: string | undefined;
  apiKeys: ApiKeyConfig[];
  courierStaleAfterS: number;
  positionsRetentionDays: number;
  sellerQuietPeriodS: number;
  provider: { url: string | undefined; timeoutMs: number };
  /** H3 resolution of trip cells; fixed once trips are stored (rollups are keyed by it). */
  tripsH3Resolution: number;
}

const cache = new WeakMap<object, Config>();

/**
 * Parses the Worker's vars and secrets. A missing or malformed one is a deployment mistake,
 * reported with the variable's name (never its value).
 */
export function loadConfig(env: object): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((issue) => ({
      field: issue.path.join("."),
      rule: issue.code,
      message: issue.message,
    }));
    throw new AppError(
      "config_invalid",
      `invalid configuration: ${errors.map((e) => `${e.field} (${e.message})`).join(", ")}`,
      errors,
    );
  }
  const v = parsed.data;
  const config: Config = {
    environment: v.ENVIRONMENT,
    logLevel: v.LOG_LEVEL,
    databaseUrl: v.DATABASE_URL,
    // Upstash advises retries in production; the local stack sets 0 so a dead bridge fails fast.
    redis: {
      url: v.UPSTASH_REDIS_REST_URL,
      token: v.UPSTASH_REDIS_REST_TOKEN,
      retries: v.REDIS_RETRIES ?? 3,
    },
    neonLocalProxy: v.NEON_LOCAL_PROXY,
    apiKeys: v.API_KEYS,
    courierStaleAfterS: v.COURIER_STALE_AFTER_S,
    positionsRetentionDays: v.POSITIONS_RETENTION_DAYS,
    sellerQuietPeriodS: v.SELLER_QUIET_PERIOD_S,
    provider: { url: v.PROVIDER_URL, timeoutMs: v.PROVIDER_TIMEOUT_MS },
    tripsH3Resolution: v.TRIPS_H3_RESOLUTION,
  };
  cache.set(env, config);
  return config;
}

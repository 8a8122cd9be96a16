import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import type { Redis } from "../redis/client";

/** The state of one dependency as `/health` reports it. */
export interface DependencyStatus {
  status: "up" | "down";
  latency_ms: number;
  error?: string;
  version?: string;
}

/** The whole health report; `status` is "down" when any dependency is. */
export interface HealthReport {
  status: "up" | "down";
  checks: { redis: DependencyStatus; postgres: DependencyStatus };
}

async function timed(
  timeoutMs: number,
  probe: () => Promise<string | undefined>,
  now: () => number,
): Promise<DependencyStatus> {
  const started = now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const version = await Promise.race([probe(), timeout]);
    return { status: "up", latency_ms: now() - started, ...(version ? { version } : {}) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { status: "down", latency_ms: now() - started, error: message };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** Probes Redis (PING) and Postgres (PostGIS version) concurrently, each within `timeoutMs`. */
export async function checkHealth(
  deps: { redis: Redis; db: Db; now?: () => number },
  timeoutMs = 2000,
): Promise<HealthReport> {
  const now = deps.now ?? (() => Date.now());
  const [redis, postgres] = await Promise.all([
    timed(
      timeoutMs,
      async () => {
        const pong = await deps.redis.ping();
        if (pong !== "PONG") throw new Error(`unexpected PING reply ${String(pong)}`);
        return undefined;
      },
      now,
    ),
    timed(
      timeoutMs,
      async () => {
        const result = await deps.db.execute<{ postgis: string }>(
          sql`select postgis_lib_version() as postgis`,
        );
        return `postgis ${result.rows[0]?.postgis ?? "?"}`;
      },
      now,
    ),
  ]);
  return {
    status: redis.status === "up" && postgres.status === "up" ? "up" : "down",
    checks: { redis, postgres },
  };
}

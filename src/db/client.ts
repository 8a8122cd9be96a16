import { neonConfig, Pool } from "@neondatabase/serverless";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
import type { Config } from "../config";
import * as schema from "./schema";

/** The drizzle database handle used by every repository in `src/`. */
export type Db = NeonDatabase<typeof schema>;

/** A database handle for one invocation plus the pool behind it, which the caller must end. */
export interface DbHandle {
  db: Db;
  pool: Pool;
  close(): Promise<void>;
}

/**
 * Routes the Neon driver's WebSockets through the local stack's proxy. These settings are global to
 * the driver, so they are applied only when the local proxy is configured (never in production).
 */
export function useLocalNeonProxy(proxy: string | undefined): void {
  if (!proxy) return;
  neonConfig.wsProxy = (host, port) => `${proxy}/v1?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
}

/**
 * Opens a pool for one invocation. Workers must not share sockets across requests, so nothing
 * here lives at module scope; end it with `close()` (in `ctx.waitUntil` on the HTTP path).
 */
export function createDb(config: Pick<Config, "databaseUrl" | "neonLocalProxy">, max = 4): DbHandle {
  useLocalNeonProxy(config.neonLocalProxy);
  const pool = new Pool({ connectionString: config.databaseUrl, max, connectionTimeoutMillis: 5000 });
  // An idle client that loses its socket emits 'error'; without a listener that would crash the isolate.
  pool.on("error", () => {});
  return { db: drizzle({ client: pool, schema }), pool, close: () => pool.end() };
}

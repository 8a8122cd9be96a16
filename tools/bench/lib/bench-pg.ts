import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { neonConfig } from "@neondatabase/serverless";
import { WebSocket } from "ws";
import { createDb, type DbHandle } from "../../../src/db/client";
import { migrateDatabase } from "../../db/migrate";
import type { StackHandle } from "../../stack/stack";

const run = promisify(execFile);

/**
 * A database of the local stack that one benchmark owns (so its rows never mix with dev or test
 * data): created if missing, then migrated. Returns its URL.
 */
export async function ensureBenchDatabase(stack: StackHandle, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`${name}: not a plain database name`);
  const psql = ["-h", "127.0.0.1", "-p", String(stack.postgres.port), "-U", "postgres", "-d", "postgres"];
  const { stdout } = await run("psql", [
    ...psql,
    "-tAc",
    `SELECT 1 FROM pg_database WHERE datname = '${name}'`,
  ]);
  if (stdout.trim() !== "1") await run("psql", [...psql, "-c", `CREATE DATABASE ${name}`]);
  const url = stack.postgres.url(name);
  await migrateDatabase(url, stack.proxy);
  return url;
}

/**
 * The app's own database handle (`createDb`: drizzle over the Neon driver's pool) from Node,
 * through the stack's WebSocket proxy, as the Worker reaches Postgres locally.
 */
export function appDb(stack: StackHandle, url: string, connections: number): DbHandle {
  neonConfig.webSocketConstructor = WebSocket;
  return createDb({ databaseUrl: url, neonLocalProxy: stack.proxy }, connections);
}

/** Opens `connections` connections of the pool before a timed run, so it does not pay for them. */
export async function warmPool(handle: DbHandle, connections: number): Promise<void> {
  await Promise.all(Array.from({ length: connections }, () => handle.pool.query("SELECT pg_sleep(0.05)")));
}

/**
 * Opens and closes `count` connections, `concurrency` at a time, each running `SELECT 1`: what
 * every Durable Object alarm and queue message pays before its first statement, since the Worker
 * opens a pool per invocation. Returns connections per second and the mean time per connection.
 */
export async function connectionCost(
  stack: StackHandle,
  url: string,
  count: number,
  concurrency: number,
): Promise<{ perSecond: number; meanMs: number }> {
  let next = 0;
  let total = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        const start = performance.now();
        const handle = appDb(stack, url, 1);
        try {
          await handle.pool.query("SELECT 1");
        } finally {
          await handle.close();
        }
        total += performance.now() - start;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { perSecond: count / seconds, meanMs: total / count };
}

import { resolve } from "node:path";
import { Pool } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-serverless";
import { migrate } from "drizzle-orm/neon-serverless/migrator";
import { Command } from "../lib/cli";
import { configureNeonForNode } from "./neon-node";

const MIGRATIONS = resolve(import.meta.dirname, "../../migrations");

/**
 * Applies pending migrations to `url` through the Neon serverless driver, the same client the
 * Worker uses. `localProxy` (host:port of the local stack's WebSocket proxy) is needed only for a
 * local Postgres; for Neon leave it unset.
 */
export async function migrateDatabase(url: string, localProxy?: string): Promise<void> {
  configureNeonForNode(localProxy);
  const pool = new Pool({ connectionString: url, max: 1 });
  try {
    await migrate(drizzle({ client: pool }), { migrationsFolder: MIGRATIONS });
  } finally {
    await pool.end();
  }
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "localhost" || host.startsWith("127.") || host === "[::1]";
}

/**
 * `npm run db:migrate`: migrates `DATABASE_URL` (e.g. a Neon connection string) or, when it is not
 * set, the local stack's databases (starting the stack if needed).
 */
async function main(): Promise<void> {
  const cli = new Command({
    prog: "npm run db:migrate --",
    description: `Applies the migrations in migrations/ that a database lacks, through the Neon serverless driver.
With DATABASE_URL set to a remote database (a Neon connection string), migrates that one; otherwise
the local stack's databases (starting the stack if needed), or DATABASE_URL's database on it.`,
  });
  cli.parse_args();
  const url = process.env.DATABASE_URL;
  if (url && !isLoopback(url)) {
    await migrateDatabase(url);
    console.log(`migrated ${new URL(url).host}${new URL(url).pathname}`);
    return;
  }
  const { ensureStack } = await import("../stack/stack");
  const { databases } = await import("../stack/config");
  const stack = await ensureStack();
  for (const database of url ? [new URL(url).pathname.slice(1)] : databases) {
    await migrateDatabase(stack.postgres.url(database), stack.proxy);
    console.log(`migrated local database ${database}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}

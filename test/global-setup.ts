import { migrateDatabase } from "../tools/db/migrate";
import { ensureStack } from "../tools/stack/stack";

/**
 * Starts the local stack (or reuses a running one, e.g. `npm run dev`'s), migrates the test
 * database, and on teardown stops only what it started.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const stack = await ensureStack();
  await migrateDatabase(stack.postgres.url("geoedge_test"), stack.proxy);
  process.env.GEOEDGE_REDIS_PORT = String(stack.redis.port);
  return async () => {
    await stack.stop();
  };
}

import { migrateDatabase } from "../tools/db/migrate";
import { startFakeProvider } from "../tools/fake-provider";
import { ensureStack } from "../tools/stack/stack";
import { ensureSystemPackages } from "../tools/stack/system-packages";
import { startWebhookReceiver } from "./webhook-receiver";

/**
 * Starts the local stack (or reuses a running one, e.g. `npm run dev`'s), migrates the test
 * database, starts the webhook receiver the notification tests deliver to and the fake events provider, and on teardown stops
 * only what it started.
 */
export default async function setup(): Promise<() => Promise<void>> {
  ensureSystemPackages(["stack", "test"]);
  const stack = await ensureStack();
  await migrateDatabase(stack.postgres.url("geoedge_test"), stack.proxy);
  process.env.GEOEDGE_REDIS_PORT = String(stack.redisPort);
  const receiver = await startWebhookReceiver(Number(process.env.GEOEDGE_TEST_RECEIVER_PORT));
  const provider = await startFakeProvider(Number(process.env.GEOEDGE_TEST_PROVIDER_PORT));
  return async () => {
    await provider.close();
    await receiver.close();
    await stack.stop();
  };
}

import { randomBytes } from "node:crypto";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { freePorts } from "./tools/stack/processes.ts";
import { availableStackConfig, bridgeSecret, redisDatabase } from "./tools/stack/stack.ts";
import { bridgeToken } from "./tools/stack/upstash-bridge.ts";

// Tests reach the local stack that test/global-setup.ts starts (or reuses): this checkout's running
// stack, or one on free ports when another checkout holds the default ones. Its ports and token are
// settled here because bindings are fixed before any test runs.
const stack = await availableStackConfig();
const [receiverPort, providerPort] = await freePorts(2);
process.env.GEOEDGE_TEST_RECEIVER_PORT ??= String(receiverPort);
process.env.GEOEDGE_TEST_PROVIDER_PORT ??= String(providerPort);
// The test database's own Redis database, so a running dev's keys are never touched.
const bridgeTokenForTests = bridgeToken(bridgeSecret(stack.dir), redisDatabase(stack.dir, "geoedge_test"));

// Fresh keys per run: one per scope, so tests can prove a key without a scope is refused.
const testKeys = {
  ingest: `test_ingest_${randomBytes(16).toString("hex")}`,
  read: `test_read_${randomBytes(16).toString("hex")}`,
  admin: `test_admin_${randomBytes(16).toString("hex")}`,
};

const secrets = {
  // Through the stack's PgBouncer, as a deployed Worker goes through Neon's pooled endpoint.
  DATABASE_URL: `postgres://postgres@127.0.0.1:${stack.ports.pooler}/geoedge_test`,
  UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${stack.ports.bridge}`,
  UPSTASH_REDIS_REST_TOKEN: bridgeTokenForTests,
  API_KEYS: JSON.stringify(
    Object.entries(testKeys).map(([scope, key]) => ({ id: `test-${scope}`, key, scopes: [scope] })),
  ),
};
// The Worker's required secrets, where wrangler looks for them when no .dev.vars is in use.
Object.assign(process.env, secrets);

export default defineConfig({
  test: {
    globalSetup: ["./test/global-setup.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ENVIRONMENT: "test",
                LOG_LEVEL: "warn",
                ...secrets,
                NEON_LOCAL_PROXY: `127.0.0.1:${stack.ports.proxy}`,
                REDIS_RETRIES: "0",
                TEST_KEYS: JSON.stringify(testKeys),
                TEST_PROVIDER_URL: `http://127.0.0.1:${process.env.GEOEDGE_TEST_PROVIDER_PORT}`,
                TEST_RECEIVER_URL: `http://127.0.0.1:${process.env.GEOEDGE_TEST_RECEIVER_PORT}`,
              },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/{http,durable-objects,queues,cron,unit}/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "node",
          include: ["test/tools/**/*.test.ts", "test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});

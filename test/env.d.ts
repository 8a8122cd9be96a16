declare namespace Cloudflare {
  interface Env {
    /** JSON of the per-run test keys by scope (ingest, read, admin); set in vitest.config.ts. */
    TEST_KEYS: string;
    /** Base URL of the test webhook receiver (test/webhook-receiver.ts). */
    TEST_RECEIVER_URL: string;
    /** Base URL of the fake events provider (tools/fake-provider.ts). */
    TEST_PROVIDER_URL: string;
  }
}

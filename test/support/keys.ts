import { env } from "cloudflare:workers";

/** The per-run API keys of the test bindings, by scope. */
export function testKeys(): { ingest: string; read: string; admin: string } {
  return JSON.parse(env.TEST_KEYS) as { ingest: string; read: string; admin: string };
}

/** Headers carrying the key of `scope`. */
export function authHeaders(scope: "ingest" | "read" | "admin"): Record<string, string> {
  return { authorization: `Bearer ${testKeys()[scope]}` };
}

/** A unique id for a test's own data, since Postgres and Redis are shared between test files. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 12)}`;
}

import type { ApiKeyConfig } from "../config";

/** What a key may do. `admin` implies every other scope. */
export type Scope = "ingest" | "read" | "admin";

/** A key ready for comparison: only its digest is kept in memory. */
export interface ApiKey {
  id: string;
  digest: Uint8Array;
  scopes: Scope[];
}

const encoder = new TextEncoder();

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Turns configured keys into digests. */
export async function prepareKeys(configured: ApiKeyConfig[]): Promise<ApiKey[]> {
  return Promise.all(
    configured.map(async (k) => ({
      id: k.id,
      digest: k.sha256 ? fromHex(k.sha256) : await sha256(k.key ?? ""),
      scopes: k.scopes,
    })),
  );
}

/** Equal-length comparison whose time does not depend on where the inputs differ. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/**
 * Finds the key matching `presented`. Digests are compared in constant time and every key is
 * checked, so timing reveals neither which key matched nor how much of it.
 */
export async function findKey(keys: ApiKey[], presented: string): Promise<ApiKey | undefined> {
  const digest = await sha256(presented);
  let found: ApiKey | undefined;
  for (const key of keys) {
    if (constantTimeEqual(key.digest, digest) && !found) found = key;
  }
  return found;
}

/** Whether `key` carries `scope` (directly or through admin). */
export function hasScope(key: ApiKey, scope: Scope): boolean {
  return key.scopes.includes(scope) || key.scopes.includes("admin");
}

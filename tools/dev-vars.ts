import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./stack/config";
import type { StackHandle } from "./stack/stack";

/** Parses a dotenv-style file (KEY=value lines, # comments). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*)$/.exec(line);
    if (match?.[1]) out[match[1]] = (match[2] ?? "").replace(/^"(.*)"$/, "$1");
  }
  return out;
}

/**
 * Creates `.dev.vars` from `.dev.vars.example` on first run, with a fresh dev API key and the
 * stack's bridge token. Returns its values.
 */
export function ensureDevVars(stack: StackHandle): Record<string, string> {
  // Tests point this elsewhere so they never write into the developer's checkout.
  const path = process.env.GEOEDGE_DEV_VARS ?? join(repoRoot, ".dev.vars");
  if (!existsSync(path)) {
    const example = readFileSync(join(repoRoot, ".dev.vars.example"), "utf8");
    const key = `gek_dev_${randomBytes(18).toString("base64url")}`;
    // Placeholders are filled only in assignments, never in comments.
    const filled = example
      .split("\n")
      .map((line) =>
        line.startsWith("#")
          ? line
          : line
              .replaceAll("__GENERATED__", key)
              .replaceAll("__BRIDGE_TOKEN__", stack.bridge.token("geoedge")),
      )
      .join("\n");
    writeFileSync(path, filled, { mode: 0o600 });
  }
  return parseEnvFile(readFileSync(path, "utf8"));
}

/**
 * The values `wrangler dev` gets: the user's `.dev.vars`, with the connection settings of the
 * stack that is actually running (its ports and token may differ from what the file says).
 */
export function devEnvironment(stack: StackHandle, devVars: Record<string, string>): Record<string, string> {
  return {
    ...devVars,
    DATABASE_URL: stack.postgres.pooledUrl("geoedge"),
    UPSTASH_REDIS_REST_URL: stack.bridge.url,
    UPSTASH_REDIS_REST_TOKEN: stack.bridge.token("geoedge"),
    NEON_LOCAL_PROXY: stack.proxy,
    REDIS_RETRIES: devVars.REDIS_RETRIES ?? "0",
  };
}

/** The first API key in `API_KEYS`, for printing. */
export function firstDevKey(devVars: Record<string, string>): string | undefined {
  try {
    const keys = JSON.parse(devVars.API_KEYS ?? "[]") as { key?: string }[];
    return keys.find((k) => k.key)?.key;
  } catch {
    return undefined;
  }
}

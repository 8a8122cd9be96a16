import { resolve } from "node:path";

/** Where the local stack lives and which ports it uses; the machine's own 5432/6379 are never used. */
export interface StackConfig {
  dir: string;
  ports: { redis: number; postgres: number; pooler: number; bridge: number; proxy: number };
}

const ROOT = resolve(import.meta.dirname, "../..");

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1024 || value > 65535) {
    throw new Error(`${name}=${raw} is not a port between 1024 and 65535`);
  }
  return value;
}

/** The default stack of this checkout; ports may be moved with GEOEDGE_*_PORT variables. */
export function defaultStackConfig(): StackConfig {
  const config: StackConfig = {
    dir: process.env.GEOEDGE_STACK_DIR ? resolve(process.env.GEOEDGE_STACK_DIR) : resolve(ROOT, ".stack"),
    ports: {
      redis: port("GEOEDGE_REDIS_PORT", 6390),
      postgres: port("GEOEDGE_PG_PORT", 5440),
      pooler: port("GEOEDGE_POOLER_PORT", 5441),
      bridge: port("GEOEDGE_BRIDGE_PORT", 8079),
      proxy: port("GEOEDGE_PROXY_PORT", 8078),
    },
  };
  for (const [name, value] of Object.entries(config.ports)) {
    if (value === 5432 || value === 6379)
      throw new Error(`the ${name} port must not be the machine's default ${value}`);
  }
  return config;
}

/** The repository root (for spawning tools). */
export const repoRoot = ROOT;

/** Databases the stack creates: one for `npm run dev`, one for the tests. */
export const databases = ["geoedge", "geoedge_test"] as const;

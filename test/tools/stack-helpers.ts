import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import type { StackConfig } from "../../tools/stack/config";
import { freePorts } from "../../tools/stack/processes";

/**
 * A throwaway stack directory and free ports of its own, so these tests never touch the shared test
 * stack, another checkout's stacks or the machine's default services. `spare` holds `extra` more
 * free ports for the test's other servers (a dev Worker, a fake provider).
 */
export async function scratchStack(extra = 0): Promise<StackConfig & { spare: number[] }> {
  // mkdtemp makes it mode 700, like a clone in root's home: the stack must cope.
  const dir = mkdtempSync(join(tmpdir(), "geoedge-stack-"));
  const [redis, postgres, bridge, proxy, pooler, ...spare] = (await freePorts(5 + extra)) as [
    number,
    number,
    number,
    number,
    number,
    ...number[],
  ];
  return { dir, ports: { redis, postgres, bridge, proxy, pooler }, spare };
}

/** The PIDs recorded in a stack's state file. */
export function statePids(dir: string): {
  redis?: number;
  postgres?: number;
  pooler?: number;
  services?: number;
} {
  const state = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as Record<
    string,
    { pid: number } | undefined
  >;
  return {
    redis: state.redis?.pid,
    postgres: state.postgres?.pid,
    pooler: state.pooler?.pid,
    services: state.services?.pid,
  };
}

/** The environment that points the stack tools at `config`. */
export function stackEnv(config: StackConfig): Record<string, string> {
  return {
    GEOEDGE_STACK_DIR: config.dir,
    GEOEDGE_REDIS_PORT: String(config.ports.redis),
    GEOEDGE_PG_PORT: String(config.ports.postgres),
    GEOEDGE_BRIDGE_PORT: String(config.ports.bridge),
    GEOEDGE_PROXY_PORT: String(config.ports.proxy),
    GEOEDGE_POOLER_PORT: String(config.ports.pooler),
  };
}

/**
 * Polls `probe` until it returns a value (a throw counts as not yet), or fails after `ms` naming
 * `what` and, when given, the output collected so far.
 */
export async function poll<T>(
  probe: () => Promise<T | undefined>,
  ms: number,
  what: string,
  output?: () => string,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${output ? `\n${output()}` : ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Debian's Chromium, headless, as this machine allows it: no sandbox as root, no network chatter. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.GEOEDGE_CHROMIUM ?? "/usr/bin/chromium";
  if (!existsSync(executablePath))
    throw new Error(`${executablePath} not found: install the Debian package 'chromium'`);
  return chromium.launch({
    executablePath,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

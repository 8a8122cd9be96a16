import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { databases, defaultStackConfig, repoRoot, type StackConfig } from "./config.ts";
import { startPgbouncer } from "./pgbouncer.ts";
import { portOwner } from "./port-owner.ts";
import {
  checkPostgresInstalled,
  ensureDatabases,
  readPostmasterPid,
  startPostgres,
  stopPostgres,
} from "./postgres.ts";
import { freePorts, isAlive, isPortOpen, terminate, waitFor } from "./processes.ts";
import { startRedis } from "./redis.ts";
import type { RespTarget } from "./resp.ts";
import { serverDir } from "./server-dir.ts";
import { ensureSystemPackages } from "./system-packages.ts";
import { bridgeToken, REDIS_DATABASES } from "./upstash-bridge.ts";

/** A component of the stack, in start order. */
export type Component = "redis" | "postgres" | "pooler" | "services";

interface State {
  redis?: { pid: number; port: number };
  postgres?: { pid: number; port: number };
  pooler?: { pid: number; port: number };
  services?: { pid: number; bridgePort: number; proxyPort: number };
}

/** What a caller needs to reach the running stack, and a `stop` for what this call started. */
export interface StackHandle {
  dir: string;
  /** Redis's port, for messages; clients use {@link StackHandle.redis}. */
  redisPort: number;
  /**
   * Where a direct Redis client for the Postgres database `database` connects: the Redis database
   * of its own that the bridge gives the same database's token, so dev, tests and benchmarks never
   * see each other's keys.
   */
  redis(database: string): RespTarget;
  /**
   * `url` reaches Postgres directly (migrations, loaders, benchmarks' own clients); `pooledUrl`
   * goes through PgBouncer in transaction mode, as a Worker reaches Neon's pooled endpoint.
   */
  postgres: { port: number; url: (database: string) => string; pooledUrl: (database: string) => string };
  bridge: {
    url: string;
    /** The bearer token that reaches the Redis database of the Postgres database `database`. */
    token(database: string): string;
  };
  /** `host:port` of the Neon WebSocket proxy. */
  proxy: string;
  started: Component[];
  reused: Component[];
  stop(): Promise<void>;
}

const statePath = (dir: string) => join(dir, "state.json");

function readState(dir: string): State {
  try {
    return JSON.parse(readFileSync(statePath(dir), "utf8")) as State;
  } catch {
    return {};
  }
}

function writeState(dir: string, state: State): void {
  writeFileSync(statePath(dir), `${JSON.stringify(state, null, 2)}\n`);
}

/** The bridge's secret, made on first start; the tokens of each database derive from it. */
export function bridgeSecret(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "bridge-token");
  if (!existsSync(file)) writeFileSync(file, randomBytes(24).toString("hex"), { mode: 0o600 });
  return readFileSync(file, "utf8").trim();
}

/** The Redis databases of the dev and test databases; others are numbered on first use. */
const FIXED_REDIS_DATABASES: Record<string, number> = { geoedge: 0, geoedge_test: 1 };

/**
 * The Redis database number of the Postgres database `database` in the stack under `dir`. Numbers
 * given out are kept in `redis-databases.json`, so a database keeps its number across runs.
 */
export function redisDatabase(dir: string, database: string): number {
  const fixed = FIXED_REDIS_DATABASES[database];
  if (fixed !== undefined) return fixed;
  const file = join(dir, "redis-databases.json");
  let known: Record<string, number> = {};
  try {
    known = JSON.parse(readFileSync(file, "utf8")) as Record<string, number>;
  } catch {}
  const found = known[database];
  if (found !== undefined) return found;
  const used = new Set([...Object.values(FIXED_REDIS_DATABASES), ...Object.values(known)]);
  let next = 0;
  while (used.has(next)) next++;
  if (next >= REDIS_DATABASES) throw new Error(`no Redis database left for '${database}'; remove ${file}`);
  known[database] = next;
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(known, null, 2)}\n`);
  return next;
}

/** How to stop the stack in `stackDir` from a shell. */
function stopCommand(stackDir: string): string {
  return basename(stackDir) === ".stack"
    ? `cd ${dirname(stackDir)} && npm run stack -- stop`
    : `GEOEDGE_STACK_DIR=${stackDir} npm run stack -- stop`;
}

async function portTakenByStranger(port: number, what: string, variable: string): Promise<void> {
  if (!(await isPortOpen(port))) return;
  const owner = portOwner(port);
  const who = owner ? ` (pid ${owner.pid}: ${owner.command})` : "";
  if (owner?.stackDir) {
    throw new Error(
      `port ${port} (${what}) is in use by the geoedge stack in ${owner.stackDir}${who}, which this checkout did not start.\n` +
        `Stop that stack with:  ${stopCommand(owner.stackDir)}\nor give this one another port with ${variable}.`,
    );
  }
  throw new Error(
    `port ${port} (${what}) is in use by a process this stack did not start${who}; free it or set ${variable}`,
  );
}

async function ensureRedis(config: StackConfig, state: State): Promise<boolean> {
  const known = state.redis;
  if (known && known.port === config.ports.redis && isAlive(known.pid) && (await isPortOpen(known.port)))
    return false;
  await portTakenByStranger(config.ports.redis, "redis", "GEOEDGE_REDIS_PORT");
  state.redis = { pid: await startRedis(config.dir, config.ports.redis), port: config.ports.redis };
  return true;
}

async function ensurePostgres(config: StackConfig, state: State): Promise<boolean> {
  checkPostgresInstalled();
  const known = state.postgres;
  if (known && known.port === config.ports.postgres && isAlive(known.pid) && (await isPortOpen(known.port))) {
    return false;
  }
  await portTakenByStranger(config.ports.postgres, "postgres", "GEOEDGE_PG_PORT");
  state.postgres = {
    pid: await startPostgres(config.dir, config.ports.postgres),
    port: config.ports.postgres,
  };
  return true;
}

async function ensurePooler(config: StackConfig, state: State): Promise<boolean> {
  const known = state.pooler;
  if (known && known.port === config.ports.pooler && isAlive(known.pid) && (await isPortOpen(known.port)))
    return false;
  await portTakenByStranger(config.ports.pooler, "pgbouncer", "GEOEDGE_POOLER_PORT");
  state.pooler = {
    pid: await startPgbouncer(config.dir, config.ports.pooler, config.ports.postgres),
    port: config.ports.pooler,
  };
  return true;
}

async function ensureServices(config: StackConfig, state: State, token: string): Promise<boolean> {
  const known = state.services;
  const { bridge, proxy, redis } = config.ports;
  if (
    known &&
    known.bridgePort === bridge &&
    known.proxyPort === proxy &&
    isAlive(known.pid) &&
    (await isPortOpen(bridge)) &&
    (await isPortOpen(proxy))
  ) {
    return false;
  }
  await portTakenByStranger(bridge, "Upstash bridge", "GEOEDGE_BRIDGE_PORT");
  await portTakenByStranger(proxy, "Neon WebSocket proxy", "GEOEDGE_PROXY_PORT");
  const log = openSync(join(config.dir, "logs", "services.log"), "a");
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(repoRoot, "tools/stack/serve.ts"),
      "--redis-port",
      String(redis),
      "--bridge-port",
      String(bridge),
      "--proxy-port",
      String(proxy),
    ],
    {
      cwd: repoRoot,
      detached: true,
      stdio: ["ignore", log, log],
      env: { ...process.env, GEOEDGE_BRIDGE_TOKEN: token },
    },
  );
  child.unref();
  const pid = child.pid;
  if (!pid) throw new Error("could not start the stack services process");
  await waitFor(
    async () => {
      if (!isAlive(pid))
        throw new Error(`stack services exited; see ${join(config.dir, "logs", "services.log")}`);
      return (await isPortOpen(bridge)) && (await isPortOpen(proxy));
    },
    30_000,
    `stack services did not open ports ${bridge} and ${proxy}`,
  );
  state.services = { pid, bridgePort: bridge, proxyPort: proxy };
  return true;
}

async function stopComponent(config: StackConfig, state: State, component: Component): Promise<void> {
  if (component === "postgres" && state.postgres) {
    if (isAlive(state.postgres.pid)) await stopPostgres(config.dir);
    delete state.postgres;
  } else if (component === "redis" && state.redis) {
    await terminate(state.redis.pid);
    delete state.redis;
  } else if (component === "pooler" && state.pooler) {
    await terminate(state.pooler.pid);
    delete state.pooler;
  } else if (component === "services" && state.services) {
    await terminate(state.services.pid);
    delete state.services;
  }
}

/**
 * Starts whatever part of the local stack is not running yet and reuses the rest. The returned
 * `stop()` stops only the components this call started.
 */
export async function ensureStack(config: StackConfig = defaultStackConfig()): Promise<StackHandle> {
  ensureSystemPackages(["stack"]);
  mkdirSync(join(config.dir, "logs"), { recursive: true });
  const state = readState(config.dir);
  const token = bridgeSecret(config.dir);
  const started: Component[] = [];
  const reused: Component[] = [];
  const note = (component: Component, didStart: boolean) => {
    (didStart ? started : reused).push(component);
    writeState(config.dir, state);
  };
  try {
    note("redis", await ensureRedis(config, state));
    note("postgres", await ensurePostgres(config, state));
    if (state.postgres) state.postgres.pid = readPostmasterPid(config.dir);
    await ensureDatabases(config.ports.postgres, databases);
    note("pooler", await ensurePooler(config, state));
    note("services", await ensureServices(config, state, token));
  } catch (error) {
    // A start that fails half way leaves nothing of its own running: the next start, from this
    // checkout or another, would otherwise find the ports taken.
    const current = readState(config.dir);
    for (const component of [...started].reverse()) {
      await stopComponent(config, current, component).catch(() => {});
    }
    writeState(config.dir, current);
    throw error;
  }
  return {
    dir: config.dir,
    redisPort: config.ports.redis,
    redis: (database) => ({
      host: "127.0.0.1",
      port: config.ports.redis,
      db: redisDatabase(config.dir, database),
    }),
    postgres: {
      port: config.ports.postgres,
      url: (database) => `postgres://postgres@127.0.0.1:${config.ports.postgres}/${database}`,
      pooledUrl: (database) => `postgres://postgres@127.0.0.1:${config.ports.pooler}/${database}`,
    },
    bridge: {
      url: `http://127.0.0.1:${config.ports.bridge}`,
      token: (database) => bridgeToken(token, redisDatabase(config.dir, database)),
    },
    proxy: `127.0.0.1:${config.ports.proxy}`,
    started,
    reused,
    stop: async () => {
      const current = readState(config.dir);
      for (const component of [...started].reverse()) await stopComponent(config, current, component);
      writeState(config.dir, current);
    },
  };
}

const portVariables: Record<keyof StackConfig["ports"], string> = {
  redis: "GEOEDGE_REDIS_PORT",
  postgres: "GEOEDGE_PG_PORT",
  pooler: "GEOEDGE_POOLER_PORT",
  bridge: "GEOEDGE_BRIDGE_PORT",
  proxy: "GEOEDGE_PROXY_PORT",
};

/**
 * The stack a test run should use: the ports this checkout's running stack recorded (so tests share
 * a running `npm run dev`'s processes), else the configured ports where they are free, else free
 * ports picked now. Ports set explicitly through their variable are never moved. The choice is
 * written back to the variables, so child processes and the global setup agree with it.
 */
export async function availableStackConfig(base: StackConfig = defaultStackConfig()): Promise<StackConfig> {
  const state = readState(base.dir);
  const running: Partial<StackConfig["ports"]> = {};
  if (state.redis && isAlive(state.redis.pid)) running.redis = state.redis.port;
  if (state.postgres && isAlive(state.postgres.pid)) running.postgres = state.postgres.port;
  if (state.pooler && isAlive(state.pooler.pid)) running.pooler = state.pooler.port;
  if (state.services && isAlive(state.services.pid)) {
    running.bridge = state.services.bridgePort;
    running.proxy = state.services.proxyPort;
  }
  const ports = { ...base.ports };
  const names = Object.keys(ports) as (keyof StackConfig["ports"])[];
  const taken: (keyof StackConfig["ports"])[] = [];
  for (const name of names) {
    const recorded = running[name];
    if (recorded !== undefined) ports[name] = recorded;
    else if (!process.env[portVariables[name]] && (await isPortOpen(ports[name]))) taken.push(name);
  }
  const spare = await freePorts(taken.length);
  taken.forEach((name, i) => {
    ports[name] = spare[i] as number;
  });
  for (const name of names) process.env[portVariables[name]] = String(ports[name]);
  return { ...base, ports };
}

/** Stops every component the stack under `config.dir` started (the CLI's `stop`). */
export async function stopStack(config: StackConfig = defaultStackConfig()): Promise<Component[]> {
  const state = readState(config.dir);
  const stopped: Component[] = [];
  for (const component of ["services", "pooler", "postgres", "redis"] as const) {
    if (state[component]) {
      await stopComponent(config, state, component);
      stopped.push(component);
    }
  }
  writeState(config.dir, state);
  return stopped;
}

/**
 * Stops the stack under `config.dir` and deletes its data: the directory itself and, as root, the
 * server directory outside it (the CLI's `remove`). Returns the directories removed.
 */
export async function removeStack(config: StackConfig = defaultStackConfig()): Promise<string[]> {
  await stopStack(config);
  const dirs = [...new Set([serverDir(config.dir), config.dir])];
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  return dirs;
}

/** Which components are running, by the state file and a live check. */
export async function stackStatus(
  config: StackConfig = defaultStackConfig(),
): Promise<Record<Component, boolean>> {
  const state = readState(config.dir);
  return {
    redis: Boolean(state.redis && isAlive(state.redis.pid) && (await isPortOpen(state.redis.port))),
    postgres: Boolean(
      state.postgres && isAlive(state.postgres.pid) && (await isPortOpen(state.postgres.port)),
    ),
    pooler: Boolean(state.pooler && isAlive(state.pooler.pid) && (await isPortOpen(state.pooler.port))),
    services: Boolean(
      state.services && isAlive(state.services.pid) && (await isPortOpen(state.services.bridgePort)),
    ),
  };
}

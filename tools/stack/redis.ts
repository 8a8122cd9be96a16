import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { findBinary, isAlive, isPortOpen, run, terminate, waitFor } from "./processes.ts";
import { REDIS_DATABASES } from "./upstash-bridge.ts";

/** Starts `redis-server` on `port` with its files under `dir`; returns its PID. */
export async function startRedis(dir: string, port: number): Promise<number> {
  const binary = findBinary("redis-server");
  if (!binary) {
    throw new Error(
      "redis-server was not found: install the Debian package 'redis-server' (apt-get install redis-server)",
    );
  }
  const data = join(dir, "redis");
  const pidfile = join(dir, "run", "redis.pid");
  mkdirSync(data, { recursive: true });
  mkdirSync(join(dir, "run"), { recursive: true });
  mkdirSync(join(dir, "logs"), { recursive: true });
  // Redis holds only derived data (indexes rebuilt from Postgres), so nothing is persisted.
  await run(binary, [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--protected-mode",
    "yes",
    "--daemonize",
    "yes",
    "--pidfile",
    pidfile,
    "--dir",
    data,
    "--save",
    "",
    "--appendonly",
    "no",
    // One numbered database per Postgres database (dev, tests, each benchmark): see the bridge.
    "--databases",
    String(REDIS_DATABASES),
    "--logfile",
    join(dir, "logs", "redis.log"),
  ]);
  // The daemon writes its pidfile a moment after it starts listening: wait for both. If it never
  // gets there, a daemon that did start is stopped, so a failed start leaves nothing behind.
  await waitFor(
    async () =>
      existsSync(pidfile) && readFileSync(pidfile, "utf8").trim() !== "" && (await isPortOpen(port)),
    10_000,
    `redis-server did not start on port ${port}; see ${join(dir, "logs", "redis.log")}`,
  ).catch(async (error: unknown) => {
    const pid = existsSync(pidfile) ? Number(readFileSync(pidfile, "utf8").trim()) : 0;
    if (pid > 0) await terminate(pid);
    throw error;
  });
  const pid = Number(readFileSync(pidfile, "utf8").trim());
  if (!isAlive(pid)) throw new Error("redis-server exited right after starting");
  return pid;
}

import { existsSync, statSync } from "node:fs";
import { Pool } from "@neondatabase/serverless";
import { Redis } from "@upstash/redis";
import { afterAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { configureNeonForNode } from "../../tools/db/neon-node";
import { defaultStackConfig } from "../../tools/stack/config";
import { isAlive, isPortOpen } from "../../tools/stack/processes";
import { RespClient } from "../../tools/stack/resp";
import { serverDir } from "../../tools/stack/server-dir";
import { ensureStack, removeStack, type StackHandle } from "../../tools/stack/stack";
import {
  ensureSystemPackages,
  missingPackages,
  type SystemPackage,
  systemPackages,
} from "../../tools/stack/system-packages";
import { scratchStack, statePids } from "./stack-helpers";

const config = await scratchStack();
let first: StackHandle | undefined;

afterAll(async () => {
  await first?.stop();
  await removeStack(config);
});

describe("system packages", () => {
  const fake: SystemPackage = {
    name: "geoedge-fake-package",
    provides: "/nonexistent/geoedge-fake",
    why: "a package no machine has",
    purposes: ["stack"],
  };

  it("installs nothing when nothing is missing", () => {
    const lines: string[] = [];
    ensureSystemPackages(["test"], { packages: [fake], log: (l) => lines.push(l), rootPrefix: undefined });
    expect(lines).toEqual([]);
  });

  it("without root or sudo, stops with the one command to copy", () => {
    expect(() =>
      ensureSystemPackages(["stack"], { packages: [fake], osRelease: "ID=debian\n", rootPrefix: undefined }),
    ).toThrow("sudo apt-get install -y --no-install-recommends geoedge-fake-package");
  });

  it("on a system other than Debian or Ubuntu, names the packages and their purpose", () => {
    expect(() => ensureSystemPackages(["stack"], { packages: [fake], osRelease: "ID=fedora\n" })).toThrow(
      /geoedge-fake-package +a package no machine has/,
    );
  });

  it("lists every package the stack and the tests need in one place, and this machine has them", () => {
    expect(systemPackages.map((p) => p.name)).toEqual(
      expect.arrayContaining([
        "redis-server",
        "postgresql-15",
        "postgresql-15-postgis-3",
        "pgbouncer",
        "chromium",
      ]),
    );
    expect(missingPackages(["stack", "test"])).toEqual([]);
  });
});

describe("local stack tool", () => {
  it("starts Redis, Postgres+PostGIS, PgBouncer and the bridge processes on its own ports", async () => {
    // A directory only its owner may enter, as a clone in root's home or in `mktemp -d` is.
    expect(statSync(config.dir).mode & 0o777).toBe(0o700);
    first = await ensureStack(config);
    expect(first.started).toEqual(["redis", "postgres", "pooler", "services"]);
    for (const port of Object.values(config.ports)) expect(await isPortOpen(port)).toBe(true);

    const redis = new Redis({
      url: first.bridge.url,
      token: first.bridge.token("geoedge_test"),
      retry: { retries: 0 },
    });
    await redis.set("stack-test", "ok");
    expect(await redis.get("stack-test")).toBe("ok");

    configureNeonForNode(first.proxy);
    const pool = new Pool({ connectionString: first.postgres.url("geoedge_test") });
    try {
      const { rows } = await pool.query(
        "select default_version from pg_available_extensions where name = 'postgis'",
      );
      expect(rows[0]?.default_version).toMatch(/^3\./);
    } finally {
      await pool.end();
    }
  });

  it("pools connections in transaction mode: many short clients share a few Postgres backends", async () => {
    const handle = first as StackHandle;
    configureNeonForNode(handle.proxy);
    const pids = new Set<number>();
    for (let i = 0; i < 10; i++) {
      // A new client per query, as a Worker opens one per invocation.
      const pool = new Pool({ connectionString: handle.postgres.pooledUrl("geoedge_test"), max: 1 });
      try {
        const { rows } = await pool.query<{ pid: number }>("select pg_backend_pid() as pid");
        pids.add(Number(rows[0]?.pid));
      } finally {
        await pool.end();
      }
    }
    expect(pids.size).toBeLessThan(10);
  });

  it("reuses what runs on a second start, and that start's stop stops nothing", async () => {
    const second = await ensureStack(config);
    expect(second.started).toEqual([]);
    expect(second.reused).toEqual(["redis", "postgres", "pooler", "services"]);
    await second.stop();
    const pids = statePids(config.dir);
    expect(pids.redis && isAlive(pids.redis)).toBe(true);
    expect(pids.postgres && isAlive(pids.postgres)).toBe(true);
    expect(await isPortOpen(config.ports.bridge)).toBe(true);
  });

  it("lets the Neon proxy reach loopback targets only", async () => {
    const outcome = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${config.ports.proxy}/v1?address=10.1.2.3:5432`);
      ws.on("unexpected-response", (_req, res) => resolve(`refused ${res.statusCode}`));
      ws.on("open", () => {
        ws.close();
        resolve("opened");
      });
      ws.on("error", (error) => resolve(`error ${error.message}`));
    });
    expect(outcome).toBe("refused 403");
  });

  it("keeps each database's Redis keys apart: the dev database's token never sees the test database's keys", async () => {
    const handle = first as StackHandle;
    const client = (database: string) =>
      new Redis({ url: handle.bridge.url, token: handle.bridge.token(database), retry: { retries: 0 } });
    const key = `isolation-${process.pid}-${Date.now()}`;
    await client("geoedge_test").set(key, "test");
    expect(await client("geoedge").get(key)).toBeNull();
    expect(await client("geoedge_test").get(key)).toBe("test");
    const direct = await RespClient.connect(handle.redis("geoedge_test"));
    try {
      expect(String(await direct.send(["GET", key]))).toBe("test");
    } finally {
      await direct.close();
    }
  });

  it("names another checkout's stack holding a port, and how to stop it; starts nothing of its own", async () => {
    const other = await scratchStack();
    other.ports.postgres = config.ports.postgres;
    try {
      const failure = await ensureStack(other).then(
        () => "started",
        (error: Error) => error.message,
      );
      expect(failure).toContain(`the geoedge stack in ${config.dir}`);
      expect(failure).toContain(`GEOEDGE_STACK_DIR=${config.dir} npm run stack -- stop`);
      // Its Redis started before Postgres failed; the failed start stopped it again.
      expect(await isPortOpen(other.ports.redis)).toBe(false);
      expect(statePids(other.dir).redis).toBeUndefined();
    } finally {
      await removeStack(other);
    }
  });

  it("stops exactly the processes it started", async () => {
    const pids = statePids(config.dir);
    await first?.stop();
    first = undefined;
    for (const pid of [pids.redis, pids.postgres, pids.pooler, pids.services])
      expect(pid && isAlive(pid)).toBe(false);
    for (const port of Object.values(config.ports)) expect(await isPortOpen(port)).toBe(false);
  });

  it("remove deletes the stack's data, the server files outside the checkout included", async () => {
    const scratch = await scratchStack();
    const handle = await ensureStack(scratch);
    expect(existsSync(serverDir(scratch.dir))).toBe(true);
    expect(await removeStack(scratch)).toContain(scratch.dir);
    expect(await isPortOpen(handle.redisPort)).toBe(false);
    expect(existsSync(scratch.dir)).toBe(false);
    expect(existsSync(serverDir(scratch.dir))).toBe(false);
  });

  it("names the Debian package to install when a binary is missing", async () => {
    const path = process.env.PATH;
    const scratch = await scratchStack();
    process.env.PATH = "/nonexistent";
    try {
      await expect(ensureStack(scratch)).rejects.toThrow(/apt-get install redis-server/);
    } finally {
      process.env.PATH = path;
      await removeStack(scratch);
    }
  });

  it("refuses the machine's default ports", () => {
    const previous = process.env.GEOEDGE_REDIS_PORT;
    process.env.GEOEDGE_REDIS_PORT = "6379";
    try {
      expect(() => defaultStackConfig()).toThrow(/must not be the machine's default 6379/);
    } finally {
      if (previous === undefined) delete process.env.GEOEDGE_REDIS_PORT;
      else process.env.GEOEDGE_REDIS_PORT = previous;
    }
  });
});

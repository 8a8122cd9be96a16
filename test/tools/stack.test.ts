import { rmSync } from "node:fs";
import { Pool } from "@neondatabase/serverless";
import { Redis } from "@upstash/redis";
import { afterAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { configureNeonForNode } from "../../tools/db/neon-node";
import { defaultStackConfig } from "../../tools/stack/config";
import { isAlive, isPortOpen } from "../../tools/stack/processes";
import { ensureStack, type StackHandle } from "../../tools/stack/stack";
import { scratchStack, statePids } from "./stack-helpers";

const config = await scratchStack();
let first: StackHandle | undefined;

afterAll(async () => {
  await first?.stop();
  rmSync(config.dir, { recursive: true, force: true });
});

describe("local stack tool", () => {
  it("starts Redis, Postgres+PostGIS, PgBouncer and the bridge processes on its own ports", async () => {
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

  it("stops exactly the processes it started", async () => {
    const pids = statePids(config.dir);
    await first?.stop();
    first = undefined;
    for (const pid of [pids.redis, pids.postgres, pids.pooler, pids.services])
      expect(pid && isAlive(pid)).toBe(false);
    for (const port of Object.values(config.ports)) expect(await isPortOpen(port)).toBe(false);
  });

  it("names the Debian package to install when a binary is missing", async () => {
    const path = process.env.PATH;
    const scratch = await scratchStack();
    process.env.PATH = "/nonexistent";
    try {
      await expect(ensureStack(scratch)).rejects.toThrow(/apt-get install redis-server/);
    } finally {
      process.env.PATH = path;
      rmSync(scratch.dir, { recursive: true, force: true });
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

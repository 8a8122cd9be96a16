import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { neonConfig } from "@neondatabase/serverless";
import { sql } from "drizzle-orm";
import { WebSocket } from "ws";
import { createDb, type Db } from "../../../src/db/client";
import { type PullResult, pullProvider } from "../../../src/events/service";
import { createLogger, type Logger } from "../../../src/log";
import { createRedis, type Redis } from "../../../src/redis/client";
import { databaseScope } from "../../../src/redis/keys";

/**
 * The `[vars]` table of a wrangler.toml: the non-secret settings `wrangler dev` binds. Only the
 * `KEY = "value"` lines that file uses are read; there is no TOML parser among the dependencies.
 */
export function wranglerVars(path: string): Record<string, string> {
  const vars: Record<string, string> = {};
  let inVars = false;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const text = line.trim();
    if (text.startsWith("[")) {
      inVars = text === "[vars]";
      continue;
    }
    const m = inVars ? /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"([^"]*)"/.exec(text) : null;
    if (m?.[1] !== undefined && m[2] !== undefined) vars[m[1]] = m[2];
  }
  return vars;
}

/** A TCP port nobody listens on right now (the kernel's pick), for the fake provider. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/**
 * Runs `tools/fake-provider.ts` (`startFakeProvider`) in its own Node process on `port`. In this
 * process its writes of a 76 MB generated feed, which ignore backpressure, would sit in the same
 * heap as the pull and be counted as the pull's memory; a real provider is remote anyway.
 */
export async function spawnFakeProvider(
  repoRoot: string,
  port: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "tools/fake-provider.ts")], {
    cwd: repoRoot,
    env: { ...process.env, GEOEDGE_PROVIDER_PORT: String(port) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    // It prints one line once it listens. Settling again later (at exit) is a no-op.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the fake provider did not start in 30 s")), 30_000);
      child.stdout.on("data", (chunk: Buffer) => {
        if (!String(chunk).includes("fake events provider on")) return;
        clearTimeout(timer);
        resolve();
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the fake provider exited (${code})`));
      });
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  } catch (error) {
    child.kill();
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill();
        await exited;
      }
    },
  };
}

/** What `pullProvider` needs, built the way the cron builds it, plus a `close` for the pool. */
export interface PullDeps {
  db: Db;
  redis: Redis;
  log: Logger;
  /** The search cache's key scope of the database: the Worker serving it derives the same. */
  scope: string;
  close(): Promise<void>;
}

/** The production clients from Node: the Neon driver through the stack's proxy, Upstash on the bridge. */
export function pullDeps(
  databaseUrl: string,
  proxy: string,
  bridge: { url: string; token: string },
): PullDeps {
  // Node has no WebSocket the driver accepts everywhere; `ws` is what the migrations use too.
  neonConfig.webSocketConstructor = WebSocket;
  const handle = createDb({ databaseUrl, neonLocalProxy: proxy }, 4);
  return {
    db: handle.db,
    redis: createRedis({ redis: { url: bridge.url, token: bridge.token, retries: 0 } }),
    // Failed pulls warn once a second while the provider is down; only errors are worth a line here.
    log: createLogger("error"),
    scope: databaseScope(databaseUrl),
    close: () => handle.close(),
  };
}

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

/** The one big pull that fills the catalogue, and what it cost this process. */
export interface FillResult {
  pull: PullResult;
  feedBytes: number;
  /** Largest rise over the settled baseline seen while the pull ran, in bytes (garbage included). */
  peakRss: number;
  peakHeap: number;
  /**
   * Largest live heap over the baseline during a second, identical pull with a full collection
   * before each sample: what the pull really holds, as a Worker's 128 MB limit would see it.
   */
  peakLiveHeap: number;
  /** How long that second pull took (it changes nothing, and the collections slow it down). */
  secondPullMs: number;
  /** Rows stored afterwards, and how many of them `/search` can return. */
  stored: number;
  online: number;
}

/** Bytes of a response body, read and dropped as they come. */
async function bodyBytes(url: string): Promise<number> {
  const res = await fetch(url);
  let n = 0;
  if (res.body) for await (const chunk of res.body) n += chunk.byteLength;
  return n;
}

/** Runs `work` while sampling memory every `everyMs` over a settled baseline; `collect` runs a full GC first. */
async function sampled<T>(
  work: () => Promise<T>,
  everyMs: number,
  collect: boolean,
): Promise<{ result: T; rss: number; heap: number }> {
  gc();
  gc();
  const base = process.memoryUsage();
  let rss = 0;
  let heap = 0;
  const sample = () => {
    if (collect) gc();
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss - base.rss);
    heap = Math.max(heap, m.heapUsed - base.heapUsed);
  };
  const timer = setInterval(sample, everyMs);
  try {
    const result = await work();
    sample();
    return { result, rss, heap };
  } finally {
    clearInterval(timer);
  }
}

/**
 * Empties the catalogue, then fills it through the real pull path from `feedUrl`, sampling memory
 * while it runs; then pulls the same feed again to measure the live heap. The feed is fetched once
 * beforehand only to report its size.
 */
export async function fillCatalogue(deps: PullDeps, feedUrl: string): Promise<FillResult> {
  // Emptied first so every run measures the same work: 10,000 inserts, not 10,000 unchanged rows.
  await deps.db.execute(sql`TRUNCATE events, provider_status`);
  const feedBytes = await bodyBytes(feedUrl);
  // The whole body must arrive within the timeout, so it is far above the cron's 5 s here.
  const pull = () => pullProvider(deps, { url: feedUrl, timeoutMs: 300_000 });
  const first = await sampled(pull, 20, false);
  const second = await sampled(pull, 100, true);
  const counts = await deps.db.execute<{ stored: string; online: string }>(
    sql`SELECT count(*)::text AS stored, count(*) FILTER (WHERE ever_online)::text AS online FROM events`,
  );
  const row = counts.rows[0];
  return {
    pull: first.result,
    feedBytes,
    peakRss: first.rss,
    peakHeap: first.heap,
    peakLiveHeap: second.heap,
    secondPullMs: second.result.durationMs,
    stored: Number(row?.stored),
    online: Number(row?.online),
  };
}

/**
 * How many events `/search` should return for `path` (its `starts_at` and `ends_at`), counted
 * independently of the app's query so a wrong answer is not checked against itself.
 */
export async function catalogueCount(db: Db, path: string): Promise<number> {
  const q = new URL(path, "http://x").searchParams;
  const from = q.get("starts_at")?.slice(0, 19) ?? null;
  const to = q.get("ends_at")?.slice(0, 19) ?? null;
  const result = await db.execute<{ n: string }>(sql`
    SELECT count(*)::text AS n FROM events WHERE ever_online
      AND starts_at >= coalesce(${from}::timestamp, '-infinity') AND ends_at <= coalesce(${to}::timestamp, 'infinity')`);
  return Number(result.rows[0]?.n);
}

/** Outcomes of the background pulls started under one label. */
export interface PullTally {
  started: number;
  /** Not started because `maxInFlight` pulls were still waiting (a slow provider). */
  skipped: number;
  byStatus: Record<string, number>;
  /** Pulls that changed the catalogue, i.e. moved the search cache generation on. */
  changed: number;
}

/**
 * Calls `pullProvider` every `everyMs` in the background, as the cron would (but far more often,
 * so a measurement of a few seconds sees several pulls), with at most `maxInFlight` at once so a
 * slow provider cannot pile them up. Each pull is counted under the label current when it started.
 */
export class PullLoop {
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly tallies = new Map<string, PullTally>();
  label = "";

  constructor(
    private readonly deps: PullDeps,
    private readonly provider: { url: string; timeoutMs: number },
    private readonly everyMs = 1000,
    private readonly maxInFlight = 10,
  ) {}

  /** The tally of `label`, created empty on first use. */
  tally(label: string): PullTally {
    let t = this.tallies.get(label);
    if (!t) {
      t = { started: 0, skipped: 0, byStatus: {}, changed: 0 };
      this.tallies.set(label, t);
    }
    return t;
  }

  /** Starts the timer; the first pull starts after `everyMs`. */
  start(): void {
    this.timer = setInterval(() => {
      const t = this.tally(this.label);
      if (this.inFlight.size >= this.maxInFlight) {
        t.skipped++;
        return;
      }
      t.started++;
      const pull: Promise<void> = pullProvider(this.deps, this.provider)
        .then((r) => {
          t.byStatus[r.status] = (t.byStatus[r.status] ?? 0) + 1;
          if ((r.eventsChanged ?? 0) > 0) t.changed++;
        })
        .catch(() => {
          t.byStatus.thrown = (t.byStatus.thrown ?? 0) + 1;
        })
        .finally(() => this.inFlight.delete(pull));
      this.inFlight.add(pull);
    }, this.everyMs);
  }

  /** Stops starting pulls and waits for those under way (each ends by its own timeout). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }
}

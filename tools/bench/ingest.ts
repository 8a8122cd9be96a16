import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { type Fix, toFix } from "../../src/tracking/schemas";
import { integer } from "../simulate/flags";
import type { SimFix } from "../simulate/gps";
import { simulate } from "../simulate/simulation";
import { RespClient } from "../stack/resp";
import { ensureStack } from "../stack/stack";
import { appDb, ensureBenchDatabase, warmPool } from "./lib/bench-pg";
import { benchBindings } from "./lib/bindings";
import { cpuRoots, measureCpu } from "./lib/cpu";
import { drive } from "./lib/drive";
import { JsonClient } from "./lib/http-json";
import { insertBatched, insertOneByOne } from "./lib/ingest-direct";
import { expectedFixes, fixKey, objectCalls, postFixes } from "./lib/ingest-http";
import { exactlyOnce, type IngestReport, ingestMarkdown } from "./lib/ingest-report";
import { liveStatesMatching, pendingFixes, removeRun, verifyLanded, waitLanded } from "./lib/ingest-verify";
import { probeStalls } from "./lib/stall-probe";
import { KeepAliveClient } from "./lib/worker";
import { type FullWorker, serveFullWorker } from "./lib/worker-full";

/** The benchmark's options; see `run`. */
export interface IngestOptions {
  couriers: number;
  minutes: number;
  city: string;
  seed: number;
  batch: number;
  concurrency: number;
  /** Connections (statements in flight) of the direct contenders. */
  connections: number;
  /** Fixes the one-INSERT-per-fix contender writes. */
  singleSample: number;
  /** Longest wait for the pipeline to land everything, s. */
  deadline: number;
  /** Where the Durable Objects' SQLite files go (a temporary directory under it). */
  stateRoot: string | undefined;
}

const DATABASE = "geoedge_bench_ingest";
const note = (s: string) => process.stderr.write(`${s}\n`);

function parse(args: string[]): IngestOptions {
  const { values } = parseArgs({
    args,
    options: {
      couriers: { type: "string", default: "200" },
      minutes: { type: "string", default: "10" },
      city: { type: "string", default: "madrid" },
      seed: { type: "string", default: "7" },
      batch: { type: "string", default: "500" },
      concurrency: { type: "string", default: "8" },
      connections: { type: "string", default: "4" },
      "single-sample": { type: "string", default: "20000" },
      deadline: { type: "string", default: "600" },
      "state-root": { type: "string" },
    },
  });
  return {
    couriers: integer("couriers", values.couriers, 1, 100_000),
    minutes: integer("minutes", values.minutes, 1, 24 * 60),
    city: values.city,
    seed: integer("seed", values.seed, 0, 2 ** 32 - 1),
    batch: integer("batch", values.batch, 1, 10_000),
    concurrency: integer("concurrency", values.concurrency, 1, 256),
    connections: integer("connections", values.connections, 1, 64),
    singleSample: integer("single-sample", values["single-sample"], 1, 1_000_000),
    deadline: integer("deadline", values.deadline, 10, 24 * 3600),
    stateRoot: values["state-root"],
  };
}

/** The simulated fleet's fixes in the order the simulator emits them, duplicates and all. */
function generate(opts: IngestOptions, idPrefix: string): SimFix[] {
  const durationMs = opts.minutes * 60_000;
  const fixes: SimFix[] = [];
  // Stamped in the recent past: the API refuses fixes more than 5 minutes ahead of its clock.
  const startMs = Date.now() - durationMs - 60_000;
  for (const tick of simulate({
    couriers: opts.couriers,
    city: opts.city,
    rateMs: 1000,
    durationMs,
    seed: opts.seed,
    startMs,
    idPrefix,
  }))
    fixes.push(...tick.fixes);
  return fixes;
}

/** The same fixes for another contender: courier `k` keeps its track under another id prefix. */
const renamed = (fixes: SimFix[], from: string, to: string): Fix[] =>
  fixes.map((f) => toFix({ ...f, courier_id: to + f.courier_id.slice(from.length) }));

/**
 * `npm run bench -- ingest`: simulated fixes through the whole ingestion pipeline on workerd
 * (`POST /v1/positions` → queue → CourierTrack objects → Postgres and Redis), checked fix by fix
 * to have landed exactly once, side by side with the same fixes written straight to Postgres in
 * 1,000-row INSERTs and one INSERT per fix, and `GET /ping` of the same Worker as the ceiling.
 * Exits non-zero only when a fix is missing, duplicated or unexplained.
 */
export async function run(args: string[]): Promise<void> {
  const opts = parse(args);
  const stack = await ensureStack();
  const runId = randomBytes(3).toString("hex");
  // Ids are unique per run (no `_`, which LIKE would read as a wildcard), one prefix per contender.
  const prefix = `bi${runId}-`;
  const ids = { worker: `${prefix}w-`, batched: `${prefix}b-`, single: `${prefix}s-` };
  const fixes = generate(opts, ids.worker);
  const courierIds = [...new Set(fixes.map((f) => f.courier_id))];
  const url = await ensureBenchDatabase(stack, DATABASE);
  const db = appDb(stack, url, opts.connections + 1);
  const redis = await RespClient.connect(stack.redis(DATABASE));
  let worker: FullWorker | undefined;
  let client: JsonClient | undefined;
  let pinger: KeepAliveClient | undefined;
  let report: IngestReport | undefined;
  try {
    note(
      `${fixes.length.toLocaleString("en-US")} fixes from ${opts.couriers} couriers × ${opts.minutes} min`,
    );
    note("building the production bundle and serving it with Miniflare (Durable Objects, queues)…");
    const apiKey = `bench_${randomBytes(16).toString("hex")}`;
    worker = await serveFullWorker({
      stateRoot: opts.stateRoot,
      bindings: benchBindings(stack, DATABASE, apiKey, ["admin"]),
    });
    pinger = new KeepAliveClient(worker.url, 32);
    const ping = await drive(() => (pinger as KeepAliveClient).ok("/ping"), {
      concurrency: 32,
      warmUp: 500,
      maxOps: 30_000,
      maxSeconds: 5,
    });
    note(`GET /ping: ${Math.round(ping.qps)} requests/s`);

    client = new JsonClient(worker.url, opts.concurrency, { authorization: `Bearer ${apiKey}` });
    const http = client;
    let lastNote = 0;
    const every = (s: string) => {
      if (Date.now() - lastNote > 2000) {
        lastNote = Date.now();
        note(s);
      }
    };
    const roots = cpuRoots(stack.dir);
    const stopCpu = measureCpu(roots);
    const stopStalls = probeStalls(worker.url);
    const post = await postFixes(client, fixes, opts.batch, opts.concurrency, (sent) =>
      every(`  posted ${sent.toLocaleString("en-US")} fixes`),
    );
    const expected = expectedFixes(fixes, post, opts.batch);
    note(
      `accepted ${post.accepted.toLocaleString("en-US")} fixes (${expected.keys.size.toLocaleString("en-US")} distinct) in ${((post.endedAt - post.startedAt) / 1000).toFixed(1)} s; waiting for Postgres…`,
    );
    const lastInsertAt = await waitLanded(
      db.pool,
      ids.worker,
      expected.keys.size,
      Date.now() + opts.deadline * 1000,
      (n) =>
        every(`  ${n.toLocaleString("en-US")} of ${expected.keys.size.toLocaleString("en-US")} in Postgres`),
      async () => [...(await pendingFixes(http, courierIds)).values()].every((p) => p === 0),
    );
    const pipelineCpu = stopCpu();
    const stalls = await stopStalls();
    const landed = await verifyLanded(db.pool, ids.worker, expected.keys);
    // Missing fixes still buffered in their objects are late; the others were lost.
    const buffered = [...(await pendingFixes(http, [...landed.missingByCourier.keys()])).values()];
    const live = await liveStatesMatching(redis, expected.newest, 10_000);
    note(
      lastInsertAt === undefined
        ? `deadline passed with ${landed.rows} rows`
        : `all in Postgres after ${((lastInsertAt - post.startedAt) / 1000).toFixed(1)} s`,
    );

    await warmPool(db, opts.connections);
    const batchedFixes = renamed(fixes, ids.worker, ids.batched);
    const stopDirectCpu = measureCpu(roots);
    const batched = await insertBatched(db.db, batchedFixes, 1000, opts.connections);
    const directCpu = stopDirectCpu();
    note(`direct 1,000-row INSERTs: ${Math.round(batched.fixesPerSecond)} fixes/s`);
    const batchedLanded = await verifyLanded(
      db.pool,
      ids.batched,
      new Set(batchedFixes.map((f) => fixKey(f.courierId, f.recordedAt))),
    );
    const sample = renamed(fixes.slice(0, opts.singleSample), ids.worker, ids.single);
    const single = await insertOneByOne(db.db, sample, opts.connections);
    note(`direct one INSERT per fix: ${Math.round(single.fixesPerSecond)} fixes/s`);

    report = {
      opts,
      fixes: fixes.length,
      distinct: expected.keys.size,
      ping,
      post,
      landed,
      lastInsertAt,
      live: { matching: live, couriers: expected.newest.size },
      objectCalls: objectCalls(fixes, opts.batch, post.messages),
      pipelineCpu,
      stalls,
      stillBuffered: buffered.reduce((a, b) => a + Math.max(0, b), 0),
      directCpu,
      batched,
      batchedLanded,
      single,
      logs: worker.logs,
    };
  } finally {
    // Only the pipeline's couriers reach Redis; the direct contenders write Postgres alone.
    const deleted = await removeRun(db.pool, redis, [prefix], courierIds).catch((error: unknown) => {
      note(`cleanup failed: ${String(error)}`);
      return 0;
    });
    note(`cleaned up ${deleted.toLocaleString("en-US")} rows`);
    client?.close();
    pinger?.close();
    await worker?.dispose();
    await db.close();
    await redis.close();
    await stack.stop();
  }
  if (!report) return;
  console.log(ingestMarkdown(report));
  if (!exactlyOnce(report)) process.exitCode = 1;
}

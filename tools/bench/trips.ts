import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import type { DbHandle } from "../../src/db/client";
import type { TripRow } from "../../src/trips/rows";
import { DEFAULT_REGIONS, generateTrips, loadTrips } from "../load/trips";
import { rollupMismatches } from "../load/trips-verify";
import { integer } from "../simulate/flags";
import { ensureStack, type StackHandle } from "../stack/stack";
import { appDb, ensureBenchDatabase } from "./lib/bench-pg";
import { benchBindings } from "./lib/bindings";
import { ingestBulkCopy, ingestChunksDirect, ingestOverHttp } from "./lib/trips-ingest";
import { measureShape, queryShapes, tripSizes } from "./lib/trips-queries";
import { type SizeRun, type TripsReport, tripsMarkdown } from "./lib/trips-report";
import { type FullWorker, serveFullWorker } from "./lib/worker-full";

/** The benchmark's options; see `run`. */
export interface TripsBenchOptions {
  sizes: number[];
  seed: number;
  /** Trips sent through `POST /v1/trips` (and each baseline); 0 skips the ingestion part. */
  ingestRows: number;
  uploads: number;
  /** Raw-table queries per shape and size (a count, so 10 M stays bounded). */
  rawQueries: number;
  rollupQueries: number;
  rollupSeconds: number;
  resolution: number;
  /** Longest wait for the ingestion jobs, s. */
  deadline: number;
  stateRoot: string | undefined;
}

const DATABASE = "geoedge_bench_trips";
const note = (s: string) => process.stderr.write(`${s}\n`);

function parse(args: string[]): TripsBenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      sizes: { type: "string", default: "1000000,10000000" },
      seed: { type: "string", default: "42" },
      "ingest-rows": { type: "string", default: "100000" },
      uploads: { type: "string", default: "4" },
      "raw-queries": { type: "string", default: "6" },
      "rollup-queries": { type: "string", default: "3000" },
      "rollup-seconds": { type: "string", default: "10" },
      resolution: { type: "string", default: "8" },
      deadline: { type: "string", default: "900" },
      "state-root": { type: "string" },
    },
  });
  const sizes = values.sizes.split(",").map((s) => integer("sizes", s.trim(), 1000, 200_000_000));
  return {
    sizes: [...new Set(sizes)].sort((a, b) => a - b),
    seed: integer("seed", values.seed, 0, 2 ** 31 - 1),
    ingestRows: integer("ingest-rows", values["ingest-rows"], 0, 10_000_000),
    uploads: integer("uploads", values.uploads, 1, 64),
    rawQueries: integer("raw-queries", values["raw-queries"], 1, 1000),
    rollupQueries: integer("rollup-queries", values["rollup-queries"], 10, 1_000_000),
    rollupSeconds: integer("rollup-seconds", values["rollup-seconds"], 1, 600),
    resolution: integer("resolution", values.resolution, 5, 10),
    deadline: integer("deadline", values.deadline, 10, 24 * 3600),
    stateRoot: values["state-root"],
  };
}

const truncate = (db: DbHandle) =>
  db.pool.query("TRUNCATE trips, trip_region_weeks, trip_cell_weeks, trip_groups");

/** Part (a): the same trips through the Worker on workerd, the consumer's SQL from Node, and the loader. */
async function ingestion(stack: StackHandle, url: string, db: DbHandle, opts: TripsBenchOptions) {
  const rows: TripRow[] = [
    ...generateTrips({ count: opts.ingestRows, seed: opts.seed, chunkSize: 50_000 }),
  ].flat();
  note(`ingestion: ${rows.length.toLocaleString("en-US")} trips; building the production bundle…`);
  const apiKey = `bench_${randomBytes(16).toString("hex")}`;
  let worker: FullWorker | undefined;
  try {
    worker = await serveFullWorker({
      stateRoot: opts.stateRoot,
      bindings: benchBindings(stack, DATABASE, apiKey, ["admin"], {
        TRIPS_H3_RESOLUTION: String(opts.resolution),
      }),
    });
    await truncate(db);
    const http = await ingestOverHttp(worker.url, apiKey, db, rows, opts.uploads, opts.deadline * 1000, note);
    note(`  ${http.name}: ${Math.round(http.rowsPerSec)} rows/s, ${http.stored} stored`);
    const httpConsistent = await rollupMismatches(db.db);
    const logs = worker.logs;
    await worker.dispose();
    worker = undefined;

    await truncate(db);
    const direct = await ingestChunksDirect(db, rows, 2, opts.resolution, `bench-direct-${opts.seed}`);
    note(`  ${direct.name}: ${Math.round(direct.rowsPerSec)} rows/s`);
    await truncate(db);
    const bulk = await ingestBulkCopy(db, {
      count: opts.ingestRows,
      seed: opts.seed,
      resolution: opts.resolution,
      databaseUrl: url,
      localProxy: stack.proxy,
    });
    note(`  ${bulk.name}: ${Math.round(bulk.rowsPerSec)} rows/s`);
    return { runs: [http, direct, bulk], httpConsistent, logs };
  } finally {
    await worker?.dispose();
  }
}

/** Part (b): grows the load to each size (a bigger load extends the smaller one) and asks every shape. */
async function queries(stack: StackHandle, url: string, db: DbHandle, opts: TripsBenchOptions) {
  await truncate(db);
  const shapes = queryShapes(DEFAULT_REGIONS);
  const runs: SizeRun[] = [];
  let loaded = 0;
  for (const size of opts.sizes) {
    note(`queries: loading trips ${loaded.toLocaleString("en-US")} to ${size.toLocaleString("en-US")}…`);
    const load = await loadTrips({
      count: size - loaded,
      start: loaded,
      seed: opts.seed,
      resolution: opts.resolution,
      databaseUrl: url,
      localProxy: stack.proxy,
      progress: true,
    });
    loaded = size;
    await db.pool.query("VACUUM ANALYZE trips, trip_region_weeks, trip_cell_weeks, trip_groups");
    const sizes = await tripSizes(db);
    const results = [];
    for (const shape of shapes) {
      const r = await measureShape(db, shape, opts.resolution, {
        rollupOps: opts.rollupQueries,
        rollupSeconds: opts.rollupSeconds,
        rawOps: opts.rawQueries,
      });
      note(
        `  ${size.toLocaleString("en-US")} trips, ${shape.name}: rollups p50 ${r.rollup.p50.toFixed(2)} ms, raw p50 ${r.raw.p50.toFixed(1)} ms, ${r.mismatches.length} mismatches`,
      );
      results.push(r);
    }
    runs.push({ size, load, sizes, results });
  }
  return runs;
}

/**
 * `npm run bench -- trips`: (a) trip ingestion end to end on workerd (`POST /v1/trips` CSV → queue
 * → consumer → Postgres, until every job reports done, rows counted in Postgres) beside the
 * consumer's SQL called from Node and the bulk loader; (b) weekly-average latency from the rollups
 * (the service the route calls) against brute-force SQL over the raw table, at each `--sizes`,
 * checking every raw answer against the service's. Exits non-zero on a lost row or a wrong answer.
 */
export async function run(args: string[]): Promise<void> {
  const opts = parse(args);
  const stack = await ensureStack();
  const url = await ensureBenchDatabase(stack, DATABASE);
  const db = appDb(stack, url, 2);
  let report: TripsReport | undefined;
  try {
    const started = new Date();
    const ingest = opts.ingestRows > 0 ? await ingestion(stack, url, db, opts) : undefined;
    const sizes = await queries(stack, url, db, opts);
    report = { opts, started, host: hostname(), ingest, sizes, args };
  } finally {
    await db.close();
    await stack.stop();
  }
  console.log(tripsMarkdown(report));
  const lost = report.ingest?.runs.some((r) => r.stored !== r.rows) ?? false;
  const inconsistent = report.ingest ? Object.values(report.ingest.httpConsistent).some((n) => n > 0) : false;
  const wrong = report.sizes.some((s) => s.results.some((r) => r.mismatches.length > 0));
  if (lost || inconsistent || wrong) process.exitCode = 1;
}

import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/neon-serverless";
import { getResolution } from "h3-js";
import { createDb, type Db } from "../../src/db/client";
import * as schema from "../../src/db/schema";
import { createPendingFolds, foldPendingTrips, insertStagedTrips } from "../../src/trips/repo";
import { isoWeekStart, type TripRow, timeBucket, tripCells } from "../../src/trips/rows";
import { configureNeonForNode } from "../db/neon-node";
import { Progress } from "./progress";
import { DEFAULT_REGIONS, generateTrips, type TripGenerateOptions, tripRegions } from "./trips-generate";

export { DEFAULT_REGIONS, generateTrips, tripLine, tripRegions, tripsCsv } from "./trips-generate";

/** What {@link loadTrips} loads and where. */
export interface TripLoadOptions extends Omit<TripGenerateOptions, "chunkSize"> {
  databaseUrl: string;
  /** host:port of the local stack's Neon WebSocket proxy, for a local URL; unset for Neon itself. */
  localProxy?: string;
  /** H3 resolution of the cells: the Worker's `TRIPS_H3_RESOLUTION`. */
  resolution: number;
  /** Empty `trips` and its rollups first. */
  truncate?: boolean;
  /** Rows per COPY and per fold statement. */
  batchSize?: number;
  /** Draw a progress bar on stderr. */
  progress?: boolean;
}

/** What a load did. */
export interface TripLoadSummary {
  jobId: string;
  rows: number;
  /** Rows written; fewer than `rows` when some were already there (a repeated load). */
  inserted: number;
  seconds: number;
  rowsPerSec: number;
}

/**
 * The job id a load's rows carry: the seed and a digest of what else shapes the rows, so a load
 * with other regions or dates never collides with (and is never skipped as) an earlier one.
 */
export function loadJobId(opts: Pick<TripGenerateOptions, "seed" | "regions" | "from" | "to">): string {
  const shape = [(opts.regions ?? DEFAULT_REGIONS).join("+"), opts.from ?? "", opts.to ?? ""].join("|");
  return `load-${opts.seed}-${createHash("sha256").update(shape).digest("hex").slice(0, 8)}`;
}

/** Creates `stage` shaped like `trips` and fills it with `COPY … FROM STDIN` through psql. */
function copyInto(url: string, stage: string, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "psql",
      [
        url,
        ...["-X", "-q", "-v", "ON_ERROR_STOP=1"],
        ...["-c", `CREATE UNLOGGED TABLE ${stage} (LIKE trips)`, "-c", `COPY ${stage} FROM STDIN`],
      ],
      { stdio: ["pipe", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`psql COPY failed (${code}): ${stderr.trim()}`)),
    );
    child.stdin.end(text);
  });
}

/** Refuses a resolution other than the one the stored trips (and so the rollups) were written at. */
async function checkResolution(db: Db, resolution: number): Promise<void> {
  const { rows } = await db.execute<{ origin_cell: string }>(sql`SELECT origin_cell FROM trips LIMIT 1`);
  const stored = rows[0] ? getResolution(rows[0].origin_cell) : undefined;
  if (stored !== undefined && stored !== resolution) {
    throw new Error(
      `the stored trips have cells at resolution ${stored}, not ${resolution}: load at ${stored} or --truncate`,
    );
  }
}

/** Week starts by day: the consumer's {@link isoWeekStart}, computed once per day of the load. */
function weekOf(): (startedAt: string) => string {
  const weeks = new Map<string, string>();
  return (startedAt) => {
    const day = startedAt.slice(0, 10);
    let week = weeks.get(day);
    if (week === undefined) {
      week = isoWeekStart(startedAt);
      weeks.set(day, week);
    }
    return week;
  };
}

/** Rows in COPY text format, with the cells, bucket and week the consumer would compute. */
function copyText(jobId: string, rows: TripRow[], resolution: number, week: (s: string) => string): string {
  const out: string[] = new Array(rows.length);
  for (const [i, r] of rows.entries()) {
    const cells = tripCells(r, resolution);
    // Names are validated (letters, digits, space, _.'-): nothing in them needs escaping.
    out[i] =
      `${jobId}\t${r.line}\t${r.region}\t${r.originLon}\t${r.originLat}\t${r.destLon}\t${r.destLat}\t${r.startedAt}\t` +
      `${r.datasource}\t${cells.origin}\t${cells.dest}\t${timeBucket(r.startedAt)}\t${week(r.startedAt)}`;
  }
  return `${out.join("\n")}\n`;
}

/**
 * Generates trips and writes them with their rollups at bulk speed, in one transaction: each batch
 * is COPied through psql into a fresh unlogged staging table (while the previous batch is being
 * inserted), moved into `trips` by one set-based statement that skips rows already stored, and what
 * the inserted rows add to the rollups is folded in once at the end, with the consumer's own SQL
 * ({@link insertStagedTrips}, {@link foldPendingTrips}). A load commits whole or not at all, so the
 * rollups always equal counts over the raw rows, and loading the same rows again adds nothing.
 * Deterministic in the seed.
 */
export async function loadTrips(opts: TripLoadOptions): Promise<TripLoadSummary> {
  const batchSize = opts.batchSize ?? 100_000;
  const jobId = loadJobId(opts);
  const generate: TripGenerateOptions = {
    count: opts.count,
    seed: opts.seed,
    chunkSize: batchSize,
    ...(opts.regions ? { regions: opts.regions } : {}),
    ...(opts.from ? { from: opts.from } : {}),
    ...(opts.to ? { to: opts.to } : {}),
    ...(opts.start ? { start: opts.start } : {}),
  };
  // Fails on an unknown region or a bad range before anything is emptied or created.
  generateTrips({ ...generate, count: 1 }).next();
  configureNeonForNode(opts.localProxy);
  const handle = createDb({ databaseUrl: opts.databaseUrl, neonLocalProxy: opts.localProxy }, 1);
  const client = await handle.pool.connect();
  const db: Db = drizzle({ client, schema });
  const prefix = `trips_load_${randomBytes(4).toString("hex")}`;
  const pending = `${prefix}_pending`;
  const stages: string[] = [];
  const progress = opts.progress ? new Progress("trips", opts.count) : undefined;
  const week = weekOf();
  const started = performance.now();
  let inserted = 0;
  let done = 0;
  try {
    // Before the transaction: its lock on trips would hold up psql's CREATE TABLE … (LIKE trips).
    if (opts.truncate) await client.query("TRUNCATE trips, trip_region_weeks, trip_cell_weeks, trip_groups");
    await client.query("BEGIN");
    // The final fold aggregates every inserted row at once: room to hash rather than spill.
    await client.query("SET LOCAL work_mem = '256MB'");
    await checkResolution(db, opts.resolution);
    await createPendingFolds(db, pending);
    // Statements on the transaction run one after another; a batch is copied while the one before
    // it is inserted, and generation never runs more than two batches ahead.
    let chain: Promise<void> = Promise.resolve();
    const inFlight: Promise<void>[] = [];
    for (const rows of generateTrips(generate)) {
      const text = copyText(jobId, rows, opts.resolution, week);
      const stage = `${prefix}_${stages.length}`;
      stages.push(stage);
      await copyInto(opts.databaseUrl, stage, text);
      chain = chain.then(async () => {
        inserted += await insertStagedTrips(db, stage, pending);
        await client.query(`DROP TABLE ${stage}`);
        done += rows.length;
        progress?.update(done);
      });
      inFlight.push(chain);
      if (inFlight.length >= 2) await inFlight.shift();
    }
    await chain;
    await foldPendingTrips(db, pending);
    await client.query("COMMIT");
    progress?.finish();
    // Fresh statistics, so the planner picks the indexes for the very next query.
    await client.query("ANALYZE trips, trip_region_weeks, trip_cell_weeks, trip_groups");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    // Stages the rolled-back transaction did not drop (psql created them outside it).
    for (const stage of stages) await client.query(`DROP TABLE IF EXISTS ${stage}`).catch(() => {});
    client.release();
    await handle.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return { jobId, rows: opts.count, inserted, seconds, rowsPerSec: opts.count / seconds };
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "localhost" || host.startsWith("127.") || host === "[::1]";
}

const USAGE = `usage: npm run load:trips -- --count N [--seed 42] [--regions ${DEFAULT_REGIONS.join(",")}]
       [--from 2018-01-01] [--to 2019-12-31] [--start 0] [--resolution 8]
       [--database geoedge] [--truncate] [--batch rows]

Writes N synthetic trips (job id load-<seed>-<digest>, lines 2…N+1 from --start) with their
rollups into a local database of the stack (geoedge by default, created if missing), or into
DATABASE_URL when it is set and --database is not. Regions: ${Object.keys(tripRegions).join(", ")}.
--resolution must be the Worker's TRIPS_H3_RESOLUTION (default: that variable, else 8).
--truncate empties trips and its rollups first. Loading the same rows again adds nothing.`;

/** `npm run load:trips`: the command line around {@link loadTrips}. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: "string" },
      seed: { type: "string", default: "42" },
      regions: { type: "string", default: DEFAULT_REGIONS.join(",") },
      from: { type: "string", default: "2018-01-01" },
      to: { type: "string", default: "2019-12-31" },
      start: { type: "string", default: "0" },
      resolution: { type: "string", default: process.env.TRIPS_H3_RESOLUTION ?? "8" },
      database: { type: "string" },
      truncate: { type: "boolean", default: false },
      batch: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  const count = Number(values.count);
  const seed = Number(values.seed);
  const start = Number(values.start);
  const resolution = Number(values.resolution);
  const day = /^\d{4}-\d{2}-\d{2}$/;
  if (
    values.help ||
    !Number.isInteger(count) ||
    count <= 0 ||
    !Number.isInteger(seed) ||
    seed < 0 ||
    !Number.isInteger(start) ||
    start < 0 ||
    start + count > 2 ** 31 - 2 ||
    !Number.isInteger(resolution) ||
    resolution < 5 ||
    resolution > 10 ||
    !day.test(values.from) ||
    !day.test(values.to)
  ) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const regions = values.regions.split(",").map((r) => r.trim());
  const common = {
    count,
    seed,
    start,
    regions,
    from: values.from,
    to: values.to,
    resolution,
    truncate: values.truncate,
    progress: true,
    ...(values.batch ? { batchSize: Number(values.batch) } : {}),
  };
  const envUrl = values.database ? undefined : process.env.DATABASE_URL;
  let databaseUrl: string;
  let summary: TripLoadSummary;
  if (envUrl && !isLoopback(envUrl)) {
    databaseUrl = envUrl;
    summary = await loadTrips({ ...common, databaseUrl });
  } else {
    const { ensureStack } = await import("../stack/stack");
    const { ensureBenchDatabase } = await import("../bench/lib/bench-pg");
    const stack = await ensureStack();
    const name = envUrl ? new URL(envUrl).pathname.slice(1) : (values.database ?? "geoedge");
    databaseUrl = await ensureBenchDatabase(stack, name);
    summary = await loadTrips({ ...common, databaseUrl, localProxy: stack.proxy });
  }
  const { host, pathname } = new URL(databaseUrl);
  const skipped = summary.rows - summary.inserted;
  console.log(
    `loaded ${summary.rows.toLocaleString("en-US")} trips (${regions.join(", ")}, ${values.from} to ${values.to}, ` +
      `seed ${seed}, job ${summary.jobId}) into ${host}${pathname} in ${summary.seconds.toFixed(1)} s: ` +
      `${Math.round(summary.rowsPerSec).toLocaleString("en-US")} rows/s` +
      (skipped > 0 ? `; ${skipped.toLocaleString("en-US")} were already there and were skipped` : ""),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}

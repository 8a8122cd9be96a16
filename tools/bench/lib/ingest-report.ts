import type { IngestOptions } from "../ingest";
import { type CpuUse, cpuLine } from "./cpu";
import type { Measured } from "./drive";
import type { DirectResult } from "./ingest-direct";
import type { PostResult } from "./ingest-http";
import type { Landed } from "./ingest-verify";
import type { StallStats } from "./stall-probe";
import type { WorkerLogs } from "./worker-full";

/** Everything one `npm run bench -- ingest` measured. */
export interface IngestReport {
  opts: IngestOptions;
  /** Fixes sent, duplicates included. */
  fixes: number;
  /** Distinct (courier, recorded time) pairs among the accepted fixes. */
  distinct: number;
  ping: Measured;
  post: PostResult;
  landed: Landed;
  /** Epoch ms of the last insert, once all were in; undefined when the deadline passed first. */
  lastInsertAt: number | undefined;
  live: { matching: number; couriers: number };
  /** `CourierTrack.record` calls the consumer made. */
  objectCalls: { min: number; max: number };
  /** workerd's and the machine's CPU from the first POST until the last fix was in Postgres. */
  pipelineCpu: CpuUse;
  /** `GET /ping` latency sampled during the pipeline phase. */
  stalls: StallStats;
  /** Of the missing fixes, how many their couriers' objects still buffer (the rest were lost). */
  stillBuffered: number;
  /** The machine's CPU during the direct 1,000-row INSERTs. */
  directCpu: CpuUse;
  batched: DirectResult;
  batchedLanded: Landed;
  single: DirectResult;
  logs: WorkerLogs;
}

/** Every accepted distinct fix is in Postgres once, and nothing else is. */
export function exactlyOnce(r: IngestReport): boolean {
  const l = r.landed;
  return (
    r.lastInsertAt !== undefined &&
    l.rows === r.distinct &&
    l.distinct === r.distinct &&
    l.missing === 0 &&
    l.unexpected === 0
  );
}

const n = (v: number) => Math.round(v).toLocaleString("en-US");
const s = (v: number) => v.toFixed(1);
const ratio = (v: number) => v.toFixed(3);
const ms = (v: number) => v.toFixed(1);

/** The results as Markdown for docs/benchmarks.md. */
export function ingestMarkdown(r: IngestReport): string {
  const { post, landed, batched, single, ping, opts } = r;
  const httpSeconds = (post.endedAt - post.startedAt) / 1000;
  const httpRate = post.accepted / httpSeconds;
  // When not everything landed, the rate is of the rows that did, up to the last of them.
  const complete = r.lastInsertAt !== undefined;
  const e2eSeconds = ((r.lastInsertAt ?? landed.lastInsertAt) - post.startedAt) / 1000;
  const e2eFixes = complete ? post.accepted : landed.rows;
  const e2eRate = e2eFixes / e2eSeconds;
  const base = batched.fixesPerSecond;
  const perFix = single.fixesPerSecond;
  const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  const lines = [
    `${n(r.fixes)} fixes from ${opts.couriers} couriers × ${opts.minutes} simulated minutes at 1 s (${opts.city}, seed ${opts.seed}), ` +
      `${n(r.fixes - r.distinct)} of them duplicates injected by the simulator; ${n(r.distinct)} distinct (courier, recorded_at).`,
    "",
    row([
      "Path",
      "In flight",
      "Fixes",
      "Seconds",
      "Fixes/s",
      "÷ direct 1,000-row INSERT",
      "÷ one INSERT per fix",
      "Notes",
    ]),
    row(["---", "--:", "--:", "--:", "--:", "--:", "--:", "---"]),
    row([
      "`GET /ping` (same Worker, requests/s)",
      32,
      "–",
      s(ping.seconds),
      `${n(ping.qps)} req/s`,
      "–",
      "–",
      `p50 ${ms(ping.p50)} ms, p99 ${ms(ping.p99)} ms`,
    ]),
    row([
      `\`POST /v1/positions\`, ${opts.batch} fixes per request (202 answered)`,
      opts.concurrency,
      n(post.accepted),
      s(httpSeconds),
      n(httpRate),
      ratio(httpRate / base),
      ratio(httpRate / perFix),
      `${n(post.accepted / opts.batch / httpSeconds)} req/s; latency p50 ${ms(post.p50)} ms, p99 ${ms(post.p99)} ms; ${n(post.messages)} queue messages; ${post.retries} retries`,
    ]),
    row([
      `end to end: HTTP → queue → CourierTrack → Postgres${complete ? "" : " (**incomplete**: rows that landed)"}`,
      opts.concurrency,
      n(e2eFixes),
      s(e2eSeconds),
      n(e2eRate),
      ratio(e2eRate / base),
      ratio(e2eRate / perFix),
      `${n(landed.statements)} flush INSERTs, ${s(landed.rows / landed.statements)} rows each; last row ${s(e2eSeconds - httpSeconds)} s after the last 202`,
    ]),
    row([
      "direct: `insertPositions`, 1,000 rows per INSERT",
      opts.connections,
      n(batched.fixes),
      s(batched.seconds),
      n(base),
      ratio(1),
      ratio(base / perFix),
      `${n(batched.statements)} statements`,
    ]),
    row([
      `direct: one INSERT per fix (first ${n(single.fixes)} fixes)`,
      opts.connections,
      n(single.fixes),
      s(single.seconds),
      n(perFix),
      ratio(perFix / base),
      ratio(1),
      `all ${n(r.fixes)} fixes would take ${s(r.fixes / perFix)} s`,
    ]),
    "",
    `Exactly once: ${exactlyOnce(r) ? "**held**" : "**FAILED**"}. Accepted ${n(post.accepted)} fixes ` +
      `(${post.rejected.length + post.unlistedRejections} rejected, ${post.failedBatches.length} batches failed), ` +
      `${n(r.distinct)} distinct; Postgres holds ${n(landed.rows)} rows for the run's couriers, ` +
      `${n(landed.distinct)} distinct (courier_id, recorded_at), ${n(landed.missing)} accepted fixes missing, ` +
      `${n(landed.unexpected)} rows not accounted for` +
      (landed.missing > 0
        ? ` (the ${landed.missingByCourier.size} couriers missing fixes still buffer ${n(r.stillBuffered)} fixes in their objects, so at least ${n(Math.max(0, landed.missing - r.stillBuffered))} were lost)`
        : "") +
      `. Live state in Redis at each courier's newest fix: ` +
      `${r.live.matching}/${r.live.couriers}. Direct batched contender: ${n(r.batchedLanded.rows)} rows, ` +
      `${n(r.batchedLanded.missing)} missing.`,
    `CPU (average cores) from the first POST to the last row in Postgres: ${cpuLine(r.pipelineCpu)}. ` +
      `The consumer made ${n(r.objectCalls.min)}–${n(r.objectCalls.max)} ` +
      `\`CourierTrack.record\` calls, ${(post.accepted / r.objectCalls.max).toFixed(1)}–` +
      `${(post.accepted / r.objectCalls.min).toFixed(1)} fixes each. \`GET /ping\` sampled every 200 ms meanwhile ` +
      `(${r.stalls.samples} samples): p50 ${ms(r.stalls.p50)} ms, p99 ${ms(r.stalls.p99)} ms, max ${ms(r.stalls.max)} ms. ` +
      `During the direct 1,000-row INSERTs: ${cpuLine(r.directCpu)}.`,
    `Worker warnings/errors: ${logSummary(r.logs)}.`,
  ];
  return lines.join("\n");
}

/** Warning and error lines by message, and dead-lettered queue messages. */
export function logSummary(logs: WorkerLogs): string {
  const parts = [...logs.byMessage].map(([msg, count]) => `${count} × "${msg}"`);
  if (logs.deadLettered > 0) parts.push(`${logs.deadLettered} messages moved to a dead-letter queue`);
  return parts.length === 0 ? "none" : parts.join(", ");
}

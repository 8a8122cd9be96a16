import type { ScansOptions } from "../scans";
import { type CpuUse, cpuLine } from "./cpu";
import { type Measured, quantile } from "./drive";
import type { PostStats } from "./http-json";
import { logSummary } from "./ingest-report";
import type { OpenFiles } from "./open-files";
import type { NotificationCheck } from "./scans-verify";
import type { StallStats } from "./stall-probe";
import type { WorkerLogs } from "./worker-full";

/** Everything one `npm run bench -- scans` measured. */
export interface ScansReport {
  opts: ScansOptions;
  ping: Measured;
  configure: PostStats & { created: number };
  scans: PostStats & { accepted: number };
  /** Notifications counted when the wait ended. */
  reached: number;
  check: NotificationCheck;
  /** Epoch ms at which no notification of the run was pending delivery any more, if reached. */
  deliveredAt: number | undefined;
  byStatus: Record<string, number>;
  /** workerd's and the machine's CPU from the first scan until the last notification was stored. */
  cpu: CpuUse;
  stalls: StallStats;
  /** Files the busiest workerd process held open at the peak, and its limit. */
  openFiles: OpenFiles;
  /** Opening a Postgres connection from Node through the same proxy, `SELECT 1`, closing it. */
  connections: { perSecond: number; meanMs: number; concurrency: number };
  logs: WorkerLogs;
}

/** Exactly one notification per seller, each with exactly its packages. */
export function notificationsExact(r: ScansReport): boolean {
  const c = r.check;
  return (
    c.notifications === r.opts.sellers &&
    c.sellers === r.opts.sellers &&
    c.missing === 0 &&
    c.duplicated === 0 &&
    c.wrongPackages === 0
  );
}

const n = (v: number) => Math.round(v).toLocaleString("en-US");
const s1 = (v: number) => v.toFixed(1);
const ms = (v: number) => v.toFixed(1);
const seconds = (msValue: number) => `${(msValue / 1000).toFixed(2)} s`;

/** Log lines of SellerDebouncer failing to store or queue a sealed notification. */
function failedStores(logs: WorkerLogs): number {
  let count = 0;
  for (const [msg, c] of logs.byMessage) if (msg.startsWith("notification not stored or queued")) count += c;
  return count;
}

/** The results as Markdown for docs/benchmarks.md. */
export function scansMarkdown(r: ScansReport): string {
  const { opts, ping, configure, scans, check } = r;
  const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  const scanSeconds = (scans.endedAt - scans.startedAt) / 1000;
  const requests = scans.latencies.length;
  const alarmSeconds = (check.lastCreatedAt - check.firstDueAt) / 1000;
  const lines = [
    `${n(opts.sellers)} sellers × ${opts.scans} scans (${n(opts.sellers * opts.scans)} scans), quiet period ` +
      `${opts.quiet} s (\`SELLER_QUIET_PERIOD_S\`); ${n(opts.configured)} of the sellers configured first with ` +
      `\`PUT /v1/sellers/:id\` and a ${opts.configuredQuiet} s quiet period, no webhook; ` +
      (opts.rate > 0
        ? `requests paced to offer at most ${n(opts.rate)} sellers/s.`
        : "requests sent as fast as the Worker answers them."),
    "",
    row(["Step", "In flight", "Count", "Seconds", "Rate", "Notes"]),
    row(["---", "--:", "--:", "--:", "--:", "---"]),
    row([
      "`GET /ping` (same Worker)",
      32,
      n(ping.queries),
      s1(ping.seconds),
      `${n(ping.qps)} req/s`,
      `p50 ${ms(ping.p50)} ms, p99 ${ms(ping.p99)} ms`,
    ]),
    row([
      "`PUT /v1/sellers/:id`",
      opts.concurrency,
      n(configure.latencies.length),
      s1((configure.endedAt - configure.startedAt) / 1000),
      `${n(configure.latencies.length / ((configure.endedAt - configure.startedAt) / 1000))} req/s`,
      `${configure.created} created; p50 ${ms(quantile(configure.latencies, 0.5))} ms`,
    ]),
    row([
      `\`POST /v1/scans\`, ${n(opts.batch)} scans per request`,
      opts.concurrency,
      `${n(scans.accepted)} scans`,
      s1(scanSeconds),
      `${n(scans.accepted / scanSeconds)} scans/s`,
      `${s1(requests / scanSeconds)} req/s (${(requests / scanSeconds / ping.qps).toFixed(3)} × /ping); latency p50 ` +
        `${ms(quantile(scans.latencies, 0.5))} ms, p99 ${ms(quantile(scans.latencies, 0.99))} ms; ${scans.retries} retries, ` +
        `${scans.failed.length} requests given up`,
    ]),
    row([
      "alarms: notifications sealed and stored in Postgres",
      "–",
      n(check.notifications),
      s1(alarmSeconds),
      `${n(check.notifications / alarmSeconds)} /s`,
      "from the first due time to the last `created_at`",
    ]),
    row([
      "queue consumer: notifications marked `stored`",
      "–",
      n(r.byStatus.stored ?? 0),
      r.deliveredAt === undefined ? "not done" : s1((r.deliveredAt - check.firstCreatedAt) / 1000),
      r.deliveredAt === undefined
        ? "–"
        : `${n((r.byStatus.stored ?? 0) / ((r.deliveredAt - check.firstCreatedAt) / 1000))} /s`,
      `from the first notification until none was pending (polled every second); statuses ${JSON.stringify(r.byStatus)}`,
    ]),
    "",
    "| Lateness (`created_at − due_at`) | p50 | p99 | max | min |",
    "| --- | --: | --: | --: | --: |",
    `| ${n(check.notifications)} notifications | ${seconds(check.late.p50)} | ${seconds(check.late.p99)} | ${seconds(check.late.max)} | ${seconds(check.late.min)} |`,
    "",
    `Exactly ${n(opts.sellers)}: ${notificationsExact(r) ? "**held**" : "**FAILED**"}. ${n(check.notifications)} ` +
      `notifications for ${n(check.sellers)} sellers (${n(check.missing)} sellers without one, ${n(check.duplicated)} ` +
      `extra), ${n(check.wrongPackages)} not listing exactly the seller's ${opts.scans} packages; ` +
      `${n(check.wrongDue)} with a due time other than last scan + the seller's quiet period.`,
    `CPU (average cores) from the first scan to the last notification stored: ${cpuLine(r.cpu)}. ` +
      `\`GET /ping\` sampled every 200 ms meanwhile (${r.stalls.samples} samples): p50 ${ms(r.stalls.p50)} ms, ` +
      `p99 ${ms(r.stalls.p99)} ms, max ${ms(r.stalls.max)} ms. A Postgres connection opened from Node through the same ` +
      `proxy (connect, \`SELECT 1\`, close; ${r.connections.concurrency} at a time): ${ms(r.connections.meanMs)} ms each, ` +
      `${n(r.connections.perSecond)}/s.`,
    `${opts.workers > 1 ? `The sellers were spread over ${opts.workers} workerd processes (seller k to process k mod ${opts.workers}; \`GET /ping\` measured on the first); the busiest ` : ""}workerd held up to ${n(r.openFiles.peak)} files open (${n(r.openFiles.peakSqlite)} of them SQLite files of the ` +
      `objects; limit ${r.openFiles.limit === undefined ? "unknown" : n(r.openFiles.limit)}). ` +
      `Failed attempts to store and queue a sealed notification (each retried with backoff from 1 s): ` +
      `${n(failedStores(r.logs))}, ${(failedStores(r.logs) / Math.max(1, check.notifications)).toFixed(1)} per notification.`,
    `Worker warnings/errors: ${logSummary(r.logs)}.`,
  ];
  return lines.join("\n");
}

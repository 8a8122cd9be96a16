import type { Measured } from "./drive";
import type { AnswerTally, CpuShares } from "./search-client";
import type { FillResult, PullTally } from "./search-setup";

/** The label of the trivial route's rows, which the ratios divide by. */
export const PING = "/ping";

/** One measured request kind in one provider state. */
export interface SearchRow {
  state: string;
  request: string;
  inFlight: number;
  m: Measured;
  answers: AnswerTally;
  cpu: CpuShares;
  /** Requests/s of this request and of `/ping` in alternating slices after the row (not for `/ping`). */
  paired?: { qps: number; pingQps: number };
}

/** One provider state: its rows, its background pulls, and the last pull as the Worker reports it. */
export interface StateResult {
  state: string;
  rows: SearchRow[];
  pulls: PullTally;
  /** `GET /v1/admin/provider` at the end of the state: status and last error. */
  lastPull: string;
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : "–");
const pct = (n: number | undefined) => (n === undefined ? "?" : `${Math.round(n * 100)}`);

/** Bytes in the unit that reads best: B, KB or MB. */
export function size(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${Math.round(bytes)} B`;
}

/** A row's throughput over its state's /ping row, measured before it. */
export function ratioToPing(s: StateResult, row: SearchRow): number | undefined {
  const ping = s.rows.find((r) => r.request === PING)?.m.qps;
  return ping ? row.m.qps / ping : undefined;
}

/** A row's throughput over `/ping`'s in the slices interleaved with its own: the target's ratio. */
export function pairedRatio(row: SearchRow): number | undefined {
  return row.paired && row.paired.pingQps > 0 ? row.paired.qps / row.paired.pingQps : undefined;
}

/** The share of answers that came from the cache (of those that carried `x-cache`). */
function hitRatio(a: AnswerTally): string {
  const total = Object.values(a.cache).reduce((x, y) => x + y, 0);
  if (total === 0) return "–";
  return `${(((a.cache.hit ?? 0) / total) * 100).toFixed(1)} %`;
}

/** The mean answer: its JSON, what crossed the socket when that was less (gzip), and its events. */
function answerSize(a: AnswerTally): string {
  if (a.answers === 0) return "–";
  const events = a.events / a.answers;
  const json = size(a.jsonBytes / a.answers);
  const wire = a.bytes < a.jsonBytes ? ` (${size(a.bytes / a.answers)} sent)` : "";
  return events === 0 ? `${json}${wire}` : `${json}${wire}, ${int(events)} events`;
}

function pullsLine(s: StateResult): string {
  const t = s.pulls;
  const statuses = Object.entries(t.byStatus)
    .map(([k, v]) => `${v} ${k}`)
    .join(", ");
  return (
    `- provider **${s.state}**: ${t.started} background pulls started (${statuses || "none finished"}` +
    `${t.skipped ? `; ${t.skipped} not started, ${t.started} already waiting` : ""}), ` +
    `${t.changed} moved the search cache generation on; the Worker's \`/v1/admin/provider\` afterwards: ${s.lastPull}`
  );
}

/** The results in markdown: one table over all states, then the background pulls and the fill. */
export function searchMarkdown(states: StateResult[], fill: FillResult, target: number): string {
  const lines = [
    "| Provider | Request | Answer (mean) | Requests | Errors | Requests/s | p50 ms | p99 ms | ÷ /ping row | Interleaved: requests/s vs /ping | ÷ /ping interleaved | x-cache hits | workerd CPU µs/request | CPU % workerd / bridge / Redis / client |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const s of states) {
    for (const row of s.rows) {
      const ratio = ratioToPing(s, row);
      const paired = pairedRatio(row);
      const c = row.cpu;
      lines.push(
        `| ${s.state} | ${row.request} | ${answerSize(row.answers)} | ${int(row.m.queries)} | ${row.answers.errors} | ` +
          `${int(row.m.qps)} | ${ms(row.m.p50)} | ${ms(row.m.p99)} | ` +
          `${row.request === PING || ratio === undefined ? "–" : `${ratio.toFixed(2)}×`} | ` +
          `${row.paired ? `${int(row.paired.qps)} vs ${int(row.paired.pingQps)}` : "–"} | ` +
          `${paired === undefined ? "–" : `${paired.toFixed(2)}×${paired >= target ? "" : " (below)"}`} | ` +
          `${hitRatio(row.answers)} | ${c.workerd === undefined ? "?" : int((c.workerd / row.m.qps) * 1e6)} | ${pct(c.workerd)} / ${pct(c.bridge)} / ${pct(c.redis)} / ${pct(c.client)} |`,
      );
    }
  }
  const p = fill.pull;
  const all = states.flatMap((s) => s.rows.map((r) => r.answers));
  const answers = all.reduce((n, a) => n + a.answers, 0);
  const full = all.reduce((n, a) => n + a.fullChecks, 0);
  return [
    lines.join("\n"),
    "",
    `Answers of the measured rows: ${int(answers)}, of which ${int(full)} parsed and checked in full ` +
      "(the others had the bytes of an answer checked in full for the same path).",
    "",
    ...states.map(pullsLine),
    "",
    `Fill: one \`pullProvider\` of ${size(fill.feedBytes)} of XML (${int(p.eventsSeen ?? 0)} plans × zones) took ` +
      `${(p.durationMs / 1000).toFixed(1)} s (status ${p.status}, ${int(p.eventsChanged ?? 0)} changed, ${int(p.skipped ?? 0)} skipped); ` +
      `peak RSS +${size(fill.peakRss)}, peak heap +${size(fill.peakHeap)} over the settled process, garbage included; ` +
      `peak live heap +${size(fill.peakLiveHeap)} (a second, identical pull with a full GC every 100 ms, ` +
      `${(fill.secondPullMs / 1000).toFixed(1)} s); ` +
      `${int(fill.stored)} events stored, ${int(fill.online)} ever online.`,
  ].join("\n");
}

/** Rows below the target (interleaved ratio), as `state request ratio` lines (for the console). */
export function belowTarget(states: StateResult[], target: number): string[] {
  return states.flatMap((s) =>
    s.rows
      .filter((r) => r.request !== PING)
      .map((r) => ({ r, ratio: pairedRatio(r) }))
      .filter(({ ratio }) => ratio !== undefined && ratio < target)
      .map(({ r, ratio }) => `${s.state} ${r.request}: ${(ratio as number).toFixed(2)}× /ping`),
  );
}

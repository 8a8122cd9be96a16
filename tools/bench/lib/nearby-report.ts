import type { Measured } from "./drive";

/** Contender names: the rows of the tables, and how the ratios find them. */
export const NAIVE = "naive scan in memory";
export const RAW = "raw GEOSEARCH (RESP)";
export const ENGINE = "Redis engine: adaptive GEOSEARCH (RESP)";
export const ENGINE_COLD = "same, new isolate (empty density cache)";
export const PG = "PostGIS engine: nearbyPostgis, Neon driver via WS proxy";
export const PGBENCH = "PostGIS, same SQL via pgbench (plain TCP)";
export const PING = "HTTP GET /ping (workerd ceiling)";
export const HTTP_REDIS = "HTTP nearby engine=redis (workerd)";
export const HTTP_PG = "HTTP nearby engine=postgis (workerd)";

/** One measured contender of one size and radius. */
export interface Row {
  contender: string;
  radiusM: number;
  inFlight: number;
  m: Measured;
  memory?: string;
  notes?: string;
}

/** How one engine fared against brute force; `failures` holds the first few reasons. */
export interface Correctness {
  engine: string;
  queries: number;
  failed: number;
  failures: string[];
}

/** Everything measured for one data size. */
export interface SizeResult {
  size: number;
  loadRowsPerSec: number;
  /** The loader's CLUSTER of `profiles` along its GiST index after the load. */
  clusterSeconds: number;
  /** Rows within 1 km of the benchmark's query points, per km²: median and 90th percentile. */
  density: { p50: number; p90: number };
  /** The machine's 1-minute load average before and after: other work on the 2 cores skews figures. */
  loadAverage: [number, number];
  rows: Row[];
  correctness: Correctness[];
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : "–");

/** Bytes as MB with one decimal. */
export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** The markdown table of one size. */
function sizeTable(r: SizeResult): string {
  return [
    "| Contender | Radius | In flight | Queries | Queries/s | p50 ms | p99 ms | Memory | Notes |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ...r.rows.map(
      (row) =>
        `| ${row.contender} | ${row.radiusM ? `${int(row.radiusM)} m` : "–"} | ${row.inFlight} | ${int(row.m.queries)} | ` +
        `${int(row.m.qps)} | ${ms(row.m.p50)} | ${ms(row.m.p99)} | ${row.memory ?? ""} | ${row.notes ?? ""} |`,
    ),
  ].join("\n");
}

/** The throughput of `contender` at `radiusM` in a size's results. */
function qpsOf(r: SizeResult, contender: string, radiusM: number): number | undefined {
  return r.rows.find((row) => row.contender === contender && row.radiusM === radiusM)?.m.qps;
}

/** Seconds of watched-process (Redis) CPU per query of `contender` at `radiusM`. */
function cpuPerQuery(r: SizeResult, contender: string, radiusM: number): number | undefined {
  const m = r.rows.find((row) => row.contender === contender && row.radiusM === radiusM)?.m;
  return m?.serverCpu === undefined ? undefined : m.serverCpu / m.qps;
}

/** Ratio rows: each is a label, a function of one size's results, and the target. */
function ratioTable(
  results: SizeResult[],
  ratios: { label: string; of: (r: SizeResult) => number | undefined; target?: number }[],
): string {
  const head = `| Ratio | ${results.map((r) => `${int(r.size)} rows`).join(" | ")} | Target |`;
  const sep = `| --- | ${results.map(() => "---:").join(" | ")} | --- |`;
  const lines = ratios.map(({ label, of, target }) => {
    const cells = results.map((r) => {
      const v = of(r);
      if (v === undefined || !Number.isFinite(v)) return "–";
      const text = v >= 10 ? `${v.toFixed(0)}×` : `${v.toFixed(2)}×`;
      // The targets are set for 1 M rows; smaller sizes are shown for the trend.
      if (target === undefined || r.size < 1_000_000) return text;
      return `${text} ${v >= target ? "(met)" : "(**not met**)"}`;
    });
    return `| ${label} | ${cells.join(" | ")} | ${target === undefined ? "–" : `≥ ${target}× at 1 M`} |`;
  });
  return [head, sep, ...lines].join("\n");
}

/** The correctness table and the failures, if any. */
function correctnessTable(results: SizeResult[]): string {
  const lines = [
    "| Rows | Engine | Queries | Within tolerance |",
    "| ---: | --- | ---: | ---: |",
    ...results.flatMap((r) =>
      r.correctness.map(
        (c) =>
          `| ${int(r.size)} | ${c.engine} | ${int(c.queries)} | ${int(c.queries - c.failed)} (${((100 * (c.queries - c.failed)) / Math.max(1, c.queries)).toFixed(1)} %) |`,
      ),
    ),
  ];
  const failures = results.flatMap((r) =>
    r.correctness.flatMap((c) => c.failures.map((f) => `- ${int(r.size)} rows, ${c.engine}: ${f}`)),
  );
  return failures.length ? `${lines.join("\n")}\n\nFailures:\n\n${failures.join("\n")}` : lines.join("\n");
}

const div = (a: number | undefined, b: number | undefined) => (a === undefined || !b ? undefined : a / b);

/** The whole report in markdown: a table per size, the ratios against their targets, correctness. */
export function nearbyMarkdown(results: SizeResult[], r: number): string {
  const out: string[] = [];
  for (const s of results) {
    out.push(
      `### ${int(s.size)} profiles\n`,
      `Loader: ${int(s.loadRowsPerSec)} rows/s (Postgres and Redis together), then CLUSTER along the GiST index in ${s.clusterSeconds.toFixed(1)} s. ` +
        `Rows per km² within 1 km of the ` +
        `query points: median ${int(s.density.p50)}, 90th percentile ${int(s.density.p90)}. ` +
        `Load average (1 min) before/after: ${s.loadAverage[0].toFixed(2)} / ${s.loadAverage[1].toFixed(2)}.\n`,
      sizeTable(s),
      "",
    );
  }
  const at = (radius: number) => `${int(radius)} m`;
  out.push(
    "### Ratios\n",
    ratioTable(results, [
      {
        label: `Redis engine ÷ raw GEOSEARCH, ${at(r)}`,
        of: (s) => div(qpsOf(s, ENGINE, r), qpsOf(s, RAW, r)),
        target: r === 1000 ? 10 : undefined,
      },
      {
        label: `same, by Redis CPU per query, ${at(r)}`,
        of: (s) => div(cpuPerQuery(s, RAW, r), cpuPerQuery(s, ENGINE, r)),
      },
      {
        label: `same, new isolate (empty density cache), ${at(r)}`,
        of: (s) => div(qpsOf(s, ENGINE_COLD, r), qpsOf(s, RAW, r)),
      },
      {
        label: "Redis engine ÷ raw GEOSEARCH, 150 m",
        of: (s) => div(qpsOf(s, ENGINE, 150), qpsOf(s, RAW, 150)),
      },
      {
        label: "same, by Redis CPU per query, 150 m",
        of: (s) => div(cpuPerQuery(s, RAW, 150), cpuPerQuery(s, ENGINE, 150)),
      },
      {
        label: `PostGIS engine ÷ naive, ${at(r)}`,
        of: (s) => div(qpsOf(s, PG, r), qpsOf(s, NAIVE, r)),
        target: 100,
      },
      { label: `PostGIS engine ÷ pgbench, ${at(r)}`, of: (s) => div(qpsOf(s, PG, r), qpsOf(s, PGBENCH, r)) },
      {
        label: `HTTP engine=redis ÷ /ping, ${at(r)}`,
        of: (s) => div(qpsOf(s, HTTP_REDIS, r), qpsOf(s, PING, 0)),
      },
      {
        label: `HTTP engine=postgis ÷ /ping, ${at(r)}`,
        of: (s) => div(qpsOf(s, HTTP_PG, r), qpsOf(s, PING, 0)),
      },
    ]),
    "",
    "### Correctness\n",
    correctnessTable(results),
  );
  return out.join("\n");
}

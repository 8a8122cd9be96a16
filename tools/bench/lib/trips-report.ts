import { cpus, totalmem } from "node:os";
import type { TripLoadSummary } from "../../load/trips";
import type { RollupMismatches } from "../../load/trips-verify";
import type { TripsBenchOptions } from "../trips";
import type { IngestRun } from "./trips-ingest";
import type { ShapeResult, TripSizes } from "./trips-queries";
import type { WorkerLogs } from "./worker-full";

/** One size of part (b): how it was loaded, how big it is, and each shape measured. */
export interface SizeRun {
  size: number;
  load: TripLoadSummary;
  sizes: TripSizes;
  results: ShapeResult[];
}

/** Everything one `npm run bench -- trips` measured. */
export interface TripsReport {
  opts: TripsBenchOptions;
  args: string[];
  started: Date;
  host: string;
  ingest: { runs: IngestRun[]; httpConsistent: RollupMismatches; logs: WorkerLogs } | undefined;
  sizes: SizeRun[];
}

const n = (v: number) => Math.round(v).toLocaleString("en-US");
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const ms = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(0));

/** The results as Markdown for docs/benchmarks.md and docs/scale.md. */
export function tripsMarkdown(r: TripsReport): string {
  const out: string[] = [];
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  out.push(
    `Command: \`npm run bench -- trips${r.args.length > 0 ? ` ${r.args.join(" ")}` : ""}\`, ${r.started.toISOString().slice(0, 16).replace("T", " ")} UTC, ` +
      `${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, local stack Postgres 15; H3 resolution ${r.opts.resolution}, seed ${r.opts.seed}.`,
    "",
  );
  if (r.ingest) {
    const base = r.ingest.runs.at(-1) as IngestRun;
    out.push(
      `**Ingestion** of ${n(base.rows)} trips (regions Prague, Turin, Hamburg), each contender into empty tables:`,
      "",
      "| path | s | rows/s | vs bulk COPY | rows in Postgres |",
      "| --- | ---: | ---: | ---: | ---: |",
    );
    for (const run of r.ingest.runs) {
      const accepted =
        run.acceptedAfter === undefined ? "" : ` (all 202 after ${run.acceptedAfter.toFixed(1)} s)`;
      out.push(
        `| ${run.name}${accepted} | ${run.seconds.toFixed(1)} | ${n(run.rowsPerSec)} | ${(run.rowsPerSec / base.rowsPerSec).toFixed(2)}× | ${n(run.stored)} |`,
      );
    }
    const c = r.ingest.httpConsistent;
    const logs = [...r.ingest.logs.byMessage.entries()].map(([m, k]) => `${m} ×${k}`).join("; ");
    out.push(
      "",
      `After the HTTP run, rollup rows disagreeing with a GROUP BY over the raw rows: region weeks ${c.regionWeeks}, cell weeks ${c.cellWeeks}, groups ${c.groups}. ` +
        `Worker warnings: ${logs || "none"}; dead-lettered: ${r.ingest.logs.deadLettered}.`,
      "",
    );
  }
  out.push(
    "**Sizes** after each load (`pg_partition_tree`, `pg_total_relation_size`; MB):",
    "",
    "| trips | load rows/s | trips heap | pkey | (region, week) | (origin cell, week) | region weeks (rows / MB) | cell weeks (rows / MB) | groups (rows / MB) |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const s of r.sizes) {
    const i = s.sizes.tripsIndexes;
    const ro = s.sizes.rollups;
    const roll = (t: string) => `${n(ro[t]?.rows ?? 0)} / ${mb(ro[t]?.bytes ?? 0)}`;
    out.push(
      `| ${n(s.sizes.trips)} | ${n(s.load.rowsPerSec)} | ${mb(s.sizes.tripsHeap)} | ${mb(i.trips_pkey ?? 0)} | ${mb(i.trips_region_week_idx ?? 0)} | ${mb(i.trips_origin_cell_week_idx ?? 0)} | ${roll("trip_region_weeks")} | ${roll("trip_cell_weeks")} | ${roll("trip_groups")} |`,
    );
  }
  out.push(
    "",
    `**Weekly average**, one query in flight: rollups (the service the route calls) for up to ${n(r.opts.rollupQueries)} queries or ${r.opts.rollupSeconds} s; raw brute-force SQL exactly ${r.opts.rawQueries} queries per shape and size, each answer compared with the service's:`,
    "",
    "| trips | shape | matching trips | rollups p50 / p99 ms | rollups q/s | raw p50 / p99 ms | raw q/s | raw p50 ÷ rollups p50 | answers equal |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const s of r.sizes) {
    for (const x of s.results) {
      out.push(
        `| ${n(s.size)} | ${x.shape} | ${n(x.trips)} | ${ms(x.rollup.p50)} / ${ms(x.rollup.p99)} | ${n(x.rollup.qps)} | ${ms(x.raw.p50)} / ${ms(x.raw.p99)} | ${x.raw.qps.toFixed(1)} | ${(x.raw.p50 / x.rollup.p50).toFixed(0)}× | ${x.compared - x.mismatches.length}/${x.compared} |`,
      );
    }
  }
  const wrong = r.sizes.flatMap((s) => s.results.flatMap((x) => x.mismatches));
  if (wrong.length > 0) out.push("", "Wrong answers:", "", ...wrong.map((w) => `- ${w}`));
  return out.join("\n");
}

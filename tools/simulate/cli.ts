import { pathToFileURL } from "node:url";
import { formatDuration } from "../lib/cli";
import { type CliConfig, parseCli } from "./command";
import { gpsgenDocument, gpsgenLines, gpsgenMetadata } from "./gpsgen";
import { HttpSink } from "./http-sink";
import { run } from "./run";
import { ndjsonFormat, type Sink, TeeSink, type TextFormat, TextSink } from "./sink";

/** How the file target lays fixes out. */
function textFormat(config: CliConfig): TextFormat {
  if (config.format === "ndjson") return ndjsonFormat;
  if (config.format === "gpsgen") return gpsgenLines;
  const metadata = gpsgenMetadata(config.sim.startMs, config.sim.durationMs, config.speedup === undefined);
  return gpsgenDocument(metadata, config.format === "gpsgen-pretty");
}

function describe(config: CliConfig): string {
  const { sim, target } = config;
  const places = [
    ...(target.out ? [target.out === "-" ? "stdout" : target.out] : []),
    ...(target.url
      ? [`${target.url.url} (batches of ${target.url.batch}, ${target.url.concurrency} in flight)`]
      : []),
  ];
  const pace =
    config.speedup === undefined
      ? "as fast as possible"
      : config.speedup === 1
        ? "in real time"
        : `${config.speedup}x real time`;
  return `simulating ${sim.couriers.toLocaleString("en-US")} couriers in each of ${sim.cities.join(", ")} (seed ${sim.seed}) from ${new Date(sim.startMs).toISOString()}, one fix every ${formatDuration(sim.rateMs)} for ${formatDuration(sim.durationMs)}, ${pace} -> ${places.join(" and ")}`;
}

/** `npm run simulate`: the command line around {@link run}. */
async function main(): Promise<number> {
  const config = parseCli(process.argv.slice(2));
  const { target } = config;
  const file = target.out ? TextSink.open(target.out, textFormat(config)) : undefined;
  const http = target.url ? new HttpSink(target.url) : undefined;
  const sink: Sink = file && http ? new TeeSink(file, http) : ((file ?? http) as Sink);
  const controller = new AbortController();
  process.once("SIGINT", () => {
    process.stderr.write("\nstopping: flushing what was generated (Ctrl-C again to quit now)\n");
    controller.abort();
    process.once("SIGINT", () => process.exit(130));
  });
  if (!config.quiet) process.stderr.write(`${describe(config)}\n`);
  if (target.url && config.speedup !== undefined) {
    const catchUp = Math.max(0, 1 - 1 / config.speedup);
    const aheadMin = (config.sim.startMs + config.sim.durationMs * catchUp - Date.now()) / 60_000;
    if (aheadMin > 5) {
      process.stderr.write(
        `warning: fixes will be stamped up to ${Math.round(aheadMin)} min ahead of the clock; the API rejects those more than 5 min ahead (leave --start out to avoid it)\n`,
      );
    }
  }
  const summary = await run({
    ...config.sim,
    sink,
    signal: controller.signal,
    ...(config.speedup === undefined ? {} : { speedup: config.speedup }),
    ...(config.quiet ? {} : { progress: process.stderr }),
  });
  const { faults, sink: stats } = summary;
  const int = (n: number) => Math.round(n).toLocaleString("en-US");
  const lines = [
    `${summary.interrupted ? "interrupted" : "done"}: ${int(summary.fixes)} fixes in ${summary.seconds.toFixed(1)} s (${int(summary.fixesPerSec)}/s); injected ${int(faults.gaps)} gaps, ${int(faults.duplicates)} duplicates, ${int(faults.reordered)} out of order`,
    `rss ${Math.round(summary.rssStartMb)} MB at start, ${Math.round(summary.rssEndMb)} MB at the end, ${Math.round(summary.rssPeakMb)} MB at most`,
  ];
  if (sink.kind === "http") {
    lines.push(
      `${int(stats.requests)} requests: accepted ${int(stats.accepted)}, rejected ${int(stats.rejected)}, failed ${int(stats.failedFixes)} fixes in ${int(stats.failedBatches)} batches; ${int(stats.retries)} retries`,
    );
  }
  if (target.out && target.out !== "-") lines.push(`wrote ${target.out}`);
  // A rejected or lost fix is a bug somewhere (the simulator only makes valid ones): exit 1.
  const bad = stats.failedFixes + stats.rejected > 0;
  if (!config.quiet || bad) process.stderr.write(`${lines.join("\n")}\n`);
  return bad ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: NodeJS.ErrnoException) => {
      // A closed pipe (`| head`) is the reader saying it has enough.
      if (error.code === "EPIPE") return;
      process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

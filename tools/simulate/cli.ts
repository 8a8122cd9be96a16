import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { firstDevKey, parseEnvFile } from "../dev-vars";
import { repoRoot } from "../stack/config";
import { cities } from "./cities";
import { duration, integer, number, parseMix, UsageError } from "./flags";
import { defaultFaults } from "./gps";
import { HttpSink } from "./http-sink";
import { hash32 } from "./random";
import { run } from "./run";
import type { SimulateOptions } from "./simulation";
import { NdjsonSink, type Sink } from "./sink";

const USAGE = `usage: npm run simulate -- (--out FILE | --out - | --url URL [--key KEY])
    [--couriers 100] [--city sao-paulo] [--rate 1s] [--duration 10m] [--seed 42] [--start ISO|now]
    [--batch 500] [--concurrency 4] [--speedup 1] [--ndjson-body] [--max-retries 10]
    [--id-prefix c-] [--mix bike=35,moto=50,car=15] [--gaps-per-hour ${defaultFaults.gapsPerHour}]
    [--dup-rate ${defaultFaults.duplicateRate}] [--reorder-rate ${defaultFaults.reorderRate}] [--quiet]

Simulates couriers doing deliveries, one GPS fix per courier every --rate for --duration of
simulated time: NDJSON to a file or stdout as fast as it goes, or batched POST <url>/v1/positions
in real time (--speedup N runs N times faster). --key defaults to $GEOEDGE_API_KEY, then, for a
local URL, to the dev key in .dev.vars. Durations: 500ms, 5s, 10m, 2h, 1h30m.
Cities: ${Object.keys(cities).join(", ")}. See docs/simulator.md.`;

/** What the command line asks for. */
export interface CliConfig {
  sim: SimulateOptions;
  target:
    | { out: string }
    | {
        url: string;
        key: string;
        batch: number;
        concurrency: number;
        ndjsonBody: boolean;
        maxRetries: number;
      };
  speedup: number | undefined;
  quiet: boolean;
}

/** The dev API key, for a local URL when none is given. */
function devKey(): string | undefined {
  const path = join(repoRoot, ".dev.vars");
  return existsSync(path) ? firstDevKey(parseEnvFile(readFileSync(path, "utf8"))) : undefined;
}

/** Parses and checks the command line; throws {@link UsageError} naming the flag and the rule. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv = process.env): CliConfig | "help" {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return "help";
  const city = values.city;
  if (!Object.hasOwn(cities, city)) {
    throw new UsageError(`--city ${city}: must be one of ${Object.keys(cities).join(", ")}`);
  }
  const rateMs = duration("rate", values.rate, 100, 3_600_000);
  const durationMs = duration("duration", values.duration, rateMs, 8784 * 3_600_000, "--rate");
  const seed = integer("seed", values.seed, 0, 0xffffffff);
  const couriers = integer("couriers", values.couriers, 1, 1_000_000);
  const prefix = values["id-prefix"];
  if (!/^[A-Za-z0-9_.:-]{0,40}$/.test(prefix)) {
    throw new UsageError(`--id-prefix ${prefix}: must be at most 40 characters of letters, digits, _ . : -`);
  }
  if ((values.out === undefined) === (values.url === undefined)) {
    throw new UsageError(
      "--out and --url: give exactly one (--out FILE or - for stdout, or --url of the API)",
    );
  }
  let target: CliConfig["target"];
  let speedup: number | undefined;
  if (values.url !== undefined) {
    const url = values.url;
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      throw new UsageError(`--url ${url}: must be an http(s) URL such as http://127.0.0.1:8787`);
    }
    const local = /^(localhost|127\.[\d.]+|\[::1\])$/.test(new URL(url).hostname);
    const key = values.key ?? env.GEOEDGE_API_KEY ?? (local ? devKey() : undefined);
    if (!key) throw new UsageError("--key: required with --url (or set GEOEDGE_API_KEY)");
    target = {
      url,
      key,
      batch: integer("batch", values.batch ?? "500", 1, 10_000),
      concurrency: integer("concurrency", values.concurrency ?? "4", 1, 64),
      ndjsonBody: values["ndjson-body"] ?? false,
      maxRetries: integer("max-retries", values["max-retries"] ?? "10", 0, 100),
    };
    speedup = number("speedup", values.speedup ?? "1", "must be a number above 0", (n) => n > 0);
  } else {
    for (const flag of ["key", "batch", "concurrency", "speedup", "ndjson-body", "max-retries"] as const) {
      if (values[flag] !== undefined) {
        throw new UsageError(`--${flag}: only applies with --url (--out writes as fast as it can)`);
      }
    }
    target = { out: values.out ?? "-" };
  }
  let startMs: number;
  const start = values.start;
  if (start === undefined && "out" in target) {
    // Fixed per seed so files are reproducible: 08:00 UTC on a day of 2025 picked by the seed.
    startMs = Date.UTC(2025, 0, 1, 8) + (hash32(seed) % 365) * 86_400_000;
  } else if (start === undefined) {
    // Far enough back that the simulated clock, running `speedup` times faster, reaches the wall
    // clock just as the run ends: no fix is ever stamped ahead of the server's clock.
    startMs = Math.round(Date.now() - durationMs * Math.max(0, 1 - 1 / (speedup ?? 1)));
  } else if (start === "now") {
    startMs = Date.now();
  } else {
    startMs = Date.parse(start);
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(start) || !(startMs > 0)) {
      throw new UsageError(
        `--start ${start}: must be an ISO 8601 time with an offset, such as 2025-03-01T08:00:00Z, or now`,
      );
    }
  }
  const rate = (flag: "gaps-per-hour" | "dup-rate" | "reorder-rate", max: number) =>
    number(flag, values[flag], `must be a number from 0 to ${max}`, (n) => n >= 0 && n <= max);
  const sim: SimulateOptions = {
    couriers,
    city,
    rateMs,
    durationMs,
    seed,
    startMs,
    idPrefix: prefix,
    faults: {
      gapsPerHour: rate("gaps-per-hour", 60),
      duplicateRate: rate("dup-rate", 0.5),
      reorderRate: rate("reorder-rate", 0.5),
    },
    ...(values.mix === undefined ? {} : { mix: parseMix(values.mix) }),
  };
  return { sim, target, speedup, quiet: values.quiet };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      couriers: { type: "string", default: "100" },
      city: { type: "string", default: "sao-paulo" },
      rate: { type: "string", default: "1s" },
      duration: { type: "string", default: "10m" },
      seed: { type: "string", default: "42" },
      start: { type: "string" },
      out: { type: "string" },
      url: { type: "string" },
      key: { type: "string" },
      batch: { type: "string" },
      concurrency: { type: "string" },
      speedup: { type: "string" },
      "ndjson-body": { type: "boolean" },
      "max-retries": { type: "string" },
      "id-prefix": { type: "string", default: "c-" },
      mix: { type: "string" },
      "gaps-per-hour": { type: "string", default: String(defaultFaults.gapsPerHour) },
      "dup-rate": { type: "string", default: String(defaultFaults.duplicateRate) },
      "reorder-rate": { type: "string", default: String(defaultFaults.reorderRate) },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
}

function describe(config: CliConfig): string {
  const { sim, target } = config;
  const where =
    "out" in target
      ? target.out === "-"
        ? "stdout"
        : target.out
      : `${target.url} (batches of ${target.batch}, ${target.concurrency} in flight${config.speedup === 1 ? "" : `, ${config.speedup}x`})`;
  return `simulating ${sim.couriers.toLocaleString("en-US")} couriers in ${sim.city} (seed ${sim.seed}) from ${new Date(sim.startMs).toISOString()}, one fix every ${sim.rateMs} ms for ${sim.durationMs / 1000} s -> ${where}`;
}

/** `npm run simulate`: the command line around {@link run}. */
async function main(): Promise<number> {
  let config: CliConfig | "help";
  try {
    config = parseCli(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`error: ${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (config === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { target } = config;
  const sink: Sink = "out" in target ? NdjsonSink.open(target.out) : new HttpSink(target);
  const controller = new AbortController();
  process.once("SIGINT", () => {
    process.stderr.write("\nstopping: flushing what was generated (Ctrl-C again to quit now)\n");
    controller.abort();
    process.once("SIGINT", () => process.exit(130));
  });
  if (!config.quiet) process.stderr.write(`${describe(config)}\n`);
  if ("url" in target) {
    const catchUp = Math.max(0, 1 - 1 / (config.speedup ?? 1));
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

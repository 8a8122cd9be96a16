import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ArgumentTypeError } from "argparse";
import { firstDevKey, parseEnvFile } from "../dev-vars";
import { cityNames } from "../lib/cities";
import {
  Command,
  calendarDate,
  decimal,
  duration,
  formatDuration,
  httpUrl,
  instant,
  integer,
  list,
  oneOf,
  type ValueType,
} from "../lib/cli";
import { repoRoot } from "../stack/config";
import { defaultFaults } from "./gps";
import { hash32 } from "./random";
import type { SimulateOptions } from "./simulation";
import { type VehicleKind, vehicles } from "./vehicles";

/** The old GPS generator's modes: send to the database (geoedge's API), write a file, or both. */
export const MODES = ["to_db", "file", "both"] as const;
export type Mode = (typeof MODES)[number];

/** What the fixes are written as: geoedge's fixes, or the old generator's records (lines or a document). */
export const FORMATS = ["ndjson", "gpsgen", "gpsgen-json", "gpsgen-pretty"] as const;
export type Format = (typeof FORMATS)[number];

/** Where fixes go: a file (or stdout), the API, or both. */
export interface Targets {
  out?: string;
  url?: {
    url: string;
    key: string;
    batch: number;
    concurrency: number;
    ndjsonBody: boolean;
    maxRetries: number;
  };
}

/** What the command line asks for. */
export interface CliConfig {
  sim: SimulateOptions & { cities: string[] };
  mode?: Mode;
  format: Format;
  target: Targets;
  /** Simulated time runs this many times faster than the wall clock; undefined: as fast as possible. */
  speedup: number | undefined;
  quiet: boolean;
}

const HOUR = 3_600_000;
const MAX_COURIERS = 1_000_000;

const DESCRIPTION = `Simulates couriers doing deliveries, one GPS fix per courier every --rate for --duration of
simulated time, in one or several cities. Fixes go to the API (batched POST <url>/v1/positions, in
real time or --speedup N times faster, or --fast), to a file (--out FILE, or - for stdout), or both;
with neither, to the local dev API (http://127.0.0.1:$GEOEDGE_DEV_PORT, 8787 by default) with the
dev key of .dev.vars.

The old GPS generator's command line works too: a mode (to_db, file or both) and its short flags,
writing its records (one per line, or its JSON document with -j, indented with -pj):

  npm run simulate -- --couriers 500 --city madrid --rate 1s --duration 10m
  npm run simulate -- file -nw 20 -hs 8 -tr 10 -d 2025-03-01 -b -j

Durations: 500ms, 5s, 10m, 2h, 1h30m. Cities: ${cityNames.join(", ")}.
See docs/simulator.md (with a table of old flag -> new flag).`;

/** Hours as milliseconds, from the old generator's `-hs` (whole hours of a shift). */
const hours: ValueType<number> = (raw) => integer(1, 24)(raw) * HOUR;
/** Seconds as milliseconds, from the old generator's `-tr`. */
const seconds: ValueType<number> = (raw) => integer(5, 60)(raw) * 1000;
/** A plain date (the old `-d`), as UTC midnight in epoch ms. */
const day: ValueType<number> = (raw) => Date.parse(`${calendarDate(raw)}T00:00:00Z`);
/** `--start`: an ISO 8601 date or date-time, or `now`. */
const startTime: ValueType<number | "now"> = (raw) => (raw === "now" ? "now" : instant(raw));

/** `bike=35,moto=50,car=15`: relative weights of the vehicles (one left out gets none). */
const vehicleMix: ValueType<Record<VehicleKind, number>> = (text) => {
  const kinds = Object.keys(vehicles) as VehicleKind[];
  const mix = Object.fromEntries(kinds.map((kind) => [kind, 0])) as Record<VehicleKind, number>;
  const rule = `must be vehicle=weight pairs of ${kinds.join(", ")}, such as bike=35,moto=50,car=15`;
  for (const pair of text.split(",")) {
    const [name = "", weight = ""] = pair.split("=");
    const w = Number(weight);
    if (!Object.hasOwn(vehicles, name) || weight.trim() === "" || !(w >= 0))
      throw new ArgumentTypeError(rule);
    mix[name as VehicleKind] = w;
  }
  if (Object.values(mix).every((w) => w === 0)) throw new ArgumentTypeError("some weight must be positive");
  return mix;
};

const idPrefix: ValueType<string> = (raw) => {
  if (!/^[A-Za-z0-9_.:-]{0,40}$/.test(raw)) {
    throw new ArgumentTypeError("must be at most 40 characters of letters, digits, _ . : -");
  }
  return raw;
};

/**
 * geoedge's flag and the old generator's for the same thing, one or the other (argparse says so
 * when both are given): the old flag keeps its own range and unit.
 */
const PAIRS: {
  title: string;
  dest: string;
  flag: string;
  type: ValueType<unknown>;
  metavar: string;
  help: string;
  old: string;
  oldType: ValueType<unknown>;
  oldMetavar: string;
  oldHelp: string;
}[] = [
  {
    title: "the fleet",
    dest: "couriers",
    flag: "--couriers",
    type: integer(1, MAX_COURIERS),
    metavar: "N",
    help: "per city, 1 to 1000000 (default 100; 10 with a mode)",
    old: "-nw",
    oldType: integer(1, 100_000),
    oldMetavar: "N",
    oldHelp: "old: workers per city, 1 to 100000 (--couriers)",
  },
  {
    title: "time",
    dest: "rate",
    flag: "--rate",
    type: duration(100, HOUR),
    metavar: "D",
    help: "between two fixes of a courier, 100ms to 1h (default 1s; 10s with a mode)",
    old: "-tr",
    oldType: seconds,
    oldMetavar: "S",
    oldHelp: "old: transmit rate, 5 to 60 s (--rate Ss)",
  },
  {
    title: "time",
    dest: "duration",
    flag: "--duration",
    type: duration(100, 8784 * HOUR),
    metavar: "D",
    help: "simulated time, from --rate to 8784h (default 10m; 8h with a mode)",
    old: "-hs",
    oldType: hours,
    oldMetavar: "H",
    oldHelp: "old: hours per shift, 1 to 24 (--duration Hh)",
  },
  {
    title: "time",
    dest: "start",
    flag: "--start",
    type: startTime,
    metavar: "ISO|now",
    help: "an ISO 8601 date (UTC midnight) or date-time, or now",
    old: "-d",
    oldType: day,
    oldMetavar: "YYYY-MM-DD",
    oldHelp: "old: the day, from UTC midnight (--start YYYY-MM-DD)",
  },
];

function command(throws: boolean): Command {
  const cli = new Command({ prog: "simulate", throws, description: DESCRIPTION });
  cli.add_argument("mode", {
    nargs: "?",
    metavar: "{to_db,file,both}",
    type: oneOf(MODES),
    help: "the old generator's mode: to_db (the API), file, or both; writes its records",
  });
  const where = cli.add_argument_group({ title: "where fixes go" });
  where.add_argument("--out", {
    metavar: "FILE",
    help: "a file, or - for stdout (file mode: gpsgen-<date>.json)",
  });
  where.add_argument("--url", { type: httpUrl, help: "the API's base URL (default: the local dev API)" });
  where.add_argument("--key", {
    help: "a key with the ingest scope ($GEOEDGE_API_KEY, or .dev.vars's for a local URL)",
  });
  const formats = where.add_mutually_exclusive_group();
  formats.add_argument("--format", {
    type: oneOf(FORMATS),
    help: "ndjson (geoedge's fixes; the default without a mode), gpsgen (old records, one per line; the default with one), gpsgen-json, gpsgen-pretty",
  });
  for (const [flag, format] of [
    ["-j", "gpsgen-json"],
    ["-pj", "gpsgen-pretty"],
  ] as const) {
    formats.add_argument(flag, {
      dest: "format",
      action: "store_const",
      const: format,
      help: `old: --format ${format}`,
    });
  }
  const groups = {
    "the fleet": cli.add_argument_group({ title: "the fleet" }),
    time: cli.add_argument_group({ title: "time" }),
  };
  for (const pair of PAIRS) {
    const either = groups[pair.title as keyof typeof groups].add_mutually_exclusive_group();
    either.add_argument(pair.flag, {
      dest: pair.dest,
      type: pair.type,
      metavar: pair.metavar,
      help: pair.help,
    });
    either.add_argument(pair.old, {
      dest: pair.dest,
      type: pair.oldType,
      metavar: pair.oldMetavar,
      help: pair.oldHelp,
    });
  }
  const fleet = groups["the fleet"];
  fleet.add_argument("--city", {
    type: list(oneOf(cityNames)),
    metavar: "NAMES",
    help: "one or more, comma-separated (default sao-paulo; london,madrid with a mode)",
  });
  fleet.add_argument("-s", "--speed", {
    type: decimal(0.5, 50),
    metavar: "M/S",
    help: "every courier cruises at this speed, 0.5 to 50 m/s (default: its vehicle's own)",
  });
  fleet.add_argument("--mix", {
    type: vehicleMix,
    metavar: "bike=35,moto=50,car=15",
    help: "relative weights of the vehicles",
  });
  fleet.add_argument("--seed", {
    type: integer(0, 4_294_967_295),
    default: 42,
    metavar: "N",
    help: "(default 42)",
  });
  fleet.add_argument("--id-prefix", {
    type: idPrefix,
    metavar: "P",
    help: "courier ids are P0001, P0002, … (default c-)",
  });
  const time = groups.time;
  time.add_argument("-b", "--fast", {
    action: "store_true",
    help: "as fast as possible (the default for a file alone; old -b)",
  });
  time.add_argument("--speedup", {
    type: decimal(0.001, 1_000_000),
    metavar: "N",
    help: "simulated time runs N times faster than the wall clock (default 1)",
  });
  const http = cli.add_argument_group({ title: "sending to the API" });
  http.add_argument("--batch", {
    type: integer(1, 10_000),
    metavar: "N",
    help: "fixes per request, 1 to 10000 (default 500)",
  });
  http.add_argument("--concurrency", {
    type: integer(1, 64),
    metavar: "N",
    help: "requests in flight, 1 to 64 (default 4)",
  });
  http.add_argument("--ndjson-body", {
    action: "store_true",
    help: 'send application/x-ndjson instead of {"fixes": [...]}',
  });
  http.add_argument("--max-retries", {
    type: integer(0, 100),
    metavar: "N",
    help: "retries of one batch, 0 to 100 (default 10)",
  });
  const faults = cli.add_argument_group({ title: "GPS faults" });
  for (const [flag, max, fallback, help] of [
    ["--gaps-per-hour", 60, defaultFaults.gapsPerHour, "signal losses per courier per hour"],
    ["--dup-rate", 0.5, defaultFaults.duplicateRate, "share of fixes sent twice"],
    ["--reorder-rate", 0.5, defaultFaults.reorderRate, "share of fixes sent after the next one"],
  ] as const) {
    faults.add_argument(flag, {
      type: decimal(0, max),
      default: fallback,
      metavar: "N",
      help: `${help}, 0 to ${max} (default ${fallback})`,
    });
  }
  cli.add_argument("--quiet", {
    action: "store_true",
    help: "no progress line and no summary (the summary still prints when something failed)",
  });
  return cli;
}

interface Parsed {
  mode?: Mode;
  out?: string;
  url?: string;
  key?: string;
  format?: Format;
  couriers?: number;
  city?: string[];
  speed?: number;
  mix?: Record<VehicleKind, number>;
  seed: number;
  id_prefix?: string;
  rate?: number;
  duration?: number;
  start?: number | "now";
  fast: boolean;
  speedup?: number;
  batch?: number;
  concurrency?: number;
  ndjson_body: boolean;
  max_retries?: number;
  gaps_per_hour: number;
  dup_rate: number;
  reorder_rate: number;
  quiet: boolean;
}

/** The dev API key, for a local URL when none is given. */
function devKey(): string | undefined {
  const path = join(repoRoot, ".dev.vars");
  return existsSync(path) ? firstDevKey(parseEnvFile(readFileSync(path, "utf8"))) : undefined;
}

const isLocal = (url: string) => /^(localhost|127\.[\d.]+|\[::1\])$/.test(new URL(url).hostname);

/**
 * Parses and checks the command line. A bad one exits with one line naming the flag and the rule
 * (or, with `throws`, throws it as a `CommandLineError`); `--help` prints help and exits.
 */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv = process.env, throws = false): CliConfig {
  const cli = command(throws);
  const a = cli.parse_args(argv) as Parsed;
  const fail = (flag: string, rule: string): never => cli.error(`argument ${flag}: ${rule}`) as never;
  const mode = a.mode ?? undefined;
  const format: Format = a.format ?? (mode ? "gpsgen" : "ndjson");
  const gpsgen = format !== "ndjson";
  const cities = a.city ?? (mode ? ["london", "madrid"] : ["sao-paulo"]);
  const couriers = a.couriers ?? (mode ? 10 : 100);
  if (couriers * cities.length > MAX_COURIERS) fail("--couriers", `at most ${MAX_COURIERS} over all cities`);
  const rateMs = a.rate ?? (mode ? 10_000 : 1000);
  const durationMs = a.duration ?? (mode ? 8 * HOUR : 10 * 60_000);
  if (durationMs < rateMs) fail("--duration", `must be from --rate (${formatDuration(rateMs)}) to 8784h`);
  if (gpsgen && rateMs % 1000 !== 0)
    fail("--rate", "must be whole seconds with the gpsgen formats (timestamps are epoch seconds)");
  if (gpsgen && a.id_prefix !== undefined)
    fail("--id-prefix", "not with the gpsgen formats, whose ids are CITY:WORKER:TASK");

  // Where to: the mode says, else the flags, else the local dev API.
  if (mode === "file" && a.url) fail("--url", "not with mode file (use both)");
  if (mode === "to_db" && a.out) fail("--out", "not with mode to_db (use both)");
  const toFile = mode === "file" || mode === "both" || a.out !== undefined;
  const toApi = mode === "to_db" || mode === "both" || a.url !== undefined || !toFile;
  if ((format === "gpsgen-json" || format === "gpsgen-pretty") && !toFile) {
    fail(format === "gpsgen-json" ? "-j" : "-pj", "needs a file: mode file or both, or --out");
  }
  if (!toApi) {
    for (const [flag, value] of [
      ["--key", a.key],
      ["--batch", a.batch],
      ["--concurrency", a.concurrency],
      ["--max-retries", a.max_retries],
      ["--ndjson-body", a.ndjson_body || undefined],
    ] as const) {
      if (value !== undefined) fail(flag, "only applies when sending to the API (--url, to_db or both)");
    }
    if (!mode && a.speedup !== undefined)
      fail("--speedup", "only applies when sending to the API, or with a mode");
  }
  if (a.fast && a.speedup !== undefined)
    fail("--speedup", "not with -b/--fast, which runs as fast as it can");

  // Pacing: the old generator ran in real time unless -b; geoedge writes a file alone flat out.
  const paced = !a.fast && (mode !== undefined || toApi);
  const speedup = paced ? (a.speedup ?? 1) : undefined;

  let startMs: number;
  if (a.start === "now") startMs = Date.now();
  else if (a.start !== undefined) startMs = a.start;
  else if (!toApi) startMs = Date.UTC(2025, 0, 1, 8) + (hash32(a.seed) % 365) * 86_400_000;
  else if (speedup === undefined) startMs = Date.now() - durationMs;
  // Far enough back that the simulated clock, running `speedup` times faster, reaches the wall
  // clock just as the run ends: no fix is ever stamped ahead of the server's clock.
  else startMs = Math.round(Date.now() - durationMs * Math.max(0, 1 - 1 / speedup));
  if (gpsgen) startMs = Math.floor(startMs / 1000) * 1000;

  const target: Targets = {};
  if (toFile) {
    const ext = format === "gpsgen-json" || format === "gpsgen-pretty" ? "json" : "ndjson";
    target.out =
      a.out ??
      `${format === "ndjson" ? "fixes" : "gpsgen"}-${new Date(startMs).toISOString().slice(0, 10)}.${ext}`;
  }
  if (toApi) {
    const url = a.url ?? `http://127.0.0.1:${env.GEOEDGE_DEV_PORT ?? 8787}`;
    const key = a.key ?? env.GEOEDGE_API_KEY ?? (isLocal(url) ? devKey() : undefined);
    if (!key) {
      fail(
        "--key",
        a.url
          ? "required with a URL that is not local (or set GEOEDGE_API_KEY)"
          : "no dev key in .dev.vars: start npm run dev once, or give --key",
      );
    }
    target.url = {
      url,
      key: key as string,
      batch: a.batch ?? 500,
      concurrency: a.concurrency ?? 4,
      ndjsonBody: a.ndjson_body,
      maxRetries: a.max_retries ?? 10,
    };
  }
  const sim: CliConfig["sim"] = {
    couriers,
    city: cities[0] as string,
    cities,
    rateMs,
    durationMs,
    seed: a.seed,
    startMs,
    ...(a.id_prefix !== undefined ? { idPrefix: a.id_prefix } : {}),
    ...(gpsgen ? { gpsgenIds: true } : {}),
    ...(a.speed !== undefined ? { speedMps: a.speed } : {}),
    ...(a.mix ? { mix: a.mix } : {}),
    faults: { gapsPerHour: a.gaps_per_hour, duplicateRate: a.dup_rate, reorderRate: a.reorder_rate },
  };
  return { sim, ...(mode ? { mode } : {}), format, target, speedup, quiet: a.quiet };
}

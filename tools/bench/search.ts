import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, integer, list, oneOf } from "../lib/cli";
import { ensureStack } from "../stack/stack";
import { drive } from "./lib/drive";
import { benchDatabase } from "./lib/postgis";
import {
  type AnswerTally,
  checkedGet,
  cpuSpan,
  emptyTally,
  SearchClient,
  verifyCounts,
  type Watched,
  watchedPids,
} from "./lib/search-client";
import { belowTarget, PING, type SearchRow, type StateResult, searchMarkdown } from "./lib/search-report";
import {
  catalogueCount,
  fillCatalogue,
  freePort,
  PullLoop,
  pullDeps,
  spawnFakeProvider,
  wranglerVars,
} from "./lib/search-setup";
import { serveBundle } from "./lib/worker";

const DATABASE = "geoedge_bench_search";
/** /search must answer at least this share of /ping's requests per second. */
const TARGET = 0.5;
const note = (s: string) => process.stderr.write(`${s}\n`);
const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

interface Options {
  events: number;
  zones: number;
  seconds: number;
  inFlight: number;
  states: string[];
  /** Seconds between background pulls while the provider is up (the cron's default is 60). */
  pullEvery: number;
}

function parse(args: string[]): Options {
  const cli = new Command({
    prog: "npm run bench -- search",
    description: "GET /search vs /ping on workerd: a generated catalogue, the provider up, down and slow.",
  });
  cli.add_argument("--events", {
    type: integer(1, 1_000_000),
    default: 10_000,
    help: "events in the catalogue (default: %(default)s)",
  });
  cli.add_argument("--zones", {
    type: integer(1, 1000),
    default: 100,
    help: "zones per event (default: %(default)s)",
  });
  cli.add_argument("--seconds", {
    type: integer(1, 3600),
    default: 10,
    help: "seconds per measured row (default: %(default)s)",
  });
  cli.add_argument("--in-flight", {
    type: integer(1, 1000),
    default: 32,
    dest: "inFlight",
    help: "requests in flight (default: %(default)s)",
  });
  cli.add_argument("--states", {
    type: list(oneOf(["up", "down", "slow"])),
    default: ["up", "down", "slow"],
    help: "provider states to measure, comma-separated (default: up,down,slow)",
  });
  cli.add_argument("--pull-every", {
    type: integer(1, 3600),
    default: 1,
    dest: "pullEvery",
    help: "seconds between background provider pulls (default: %(default)s; the cron's pace is 60)",
  });
  return cli.parse_args(args) as Options;
}

/** How the fake provider is switched for each state, by `POST /__mode`. */
const MODES: Record<string, string> = {
  up: "mode=ok",
  down: "mode=error",
  // Four times the pull's 5 s timeout: every pull in this state ends by timing out.
  slow: "mode=slow&delay_ms=20000",
};

const day = (iso: string, days: number) =>
  new Date(Date.parse(`${iso}Z`) + days * 86_400_000).toISOString().slice(0, 19);
const range = (from: string, to: string) => `/search?starts_at=${from}&ends_at=${to}`;

/**
 * 50 distinct ranges of 1 to 10 days over the generated feed's year (2027): (k mod 12, 7k mod 20,
 * k mod 10) only repeats after 60, so the cache holds 50 entries.
 */
const MIX = Array.from({ length: 50 }, (_, k) => {
  const from = `2027-${String(1 + (k % 12)).padStart(2, "0")}-${String(1 + ((7 * k) % 20)).padStart(2, "0")}T00:00:00`;
  return range(from, day(from, 1 + (k % 10)));
});

const PING_MAX_OPS = 60_000;

/** The requests of each state: label, paths (driven round-robin), and the most to send. */
const REQUESTS: { label: string; paths: string[]; maxOps: number }[] = [
  { label: PING, paths: ["/ping"], maxOps: PING_MAX_OPS },
  { label: "/search (no range: whole catalogue)", paths: ["/search"], maxOps: 3_000 },
  { label: "/search one week", paths: [range("2027-03-01T00:00:00", "2027-03-08T00:00:00")], maxOps: 40_000 },
  { label: "/search mix of 50 ranges", paths: MIX, maxOps: 40_000 },
];

/**
 * Measures one request kind: every distinct path once (the cache misses), an untimed warm-up at
 * full concurrency, then the row. Failed answers of the warm-up count as the row's errors too.
 */
async function measure(
  client: SearchClient,
  pids: Watched,
  state: string,
  request: (typeof REQUESTS)[number],
  opts: Options,
  bounds: (path: string) => Promise<[number, number]>,
): Promise<SearchRow> {
  const warm: AnswerTally = emptyTally();
  const warmOp = checkedGet(client, request.paths, warm);
  for (let i = 0; i < request.paths.length; i++) await warmOp(i);
  await drive(warmOp, {
    concurrency: opts.inFlight,
    maxOps: Math.min(200, request.maxOps / 20),
    maxSeconds: 5,
  });
  const answers = emptyTally();
  const stop = cpuSpan(pids);
  const m = await drive(checkedGet(client, request.paths, answers), {
    concurrency: opts.inFlight,
    maxOps: request.maxOps,
    maxSeconds: opts.seconds,
  });
  const cpu = stop();
  const paired = request.label === PING ? undefined : await interleaved(client, request, opts);
  for (const t of [warm, ...(paired?.tallies ?? [])]) {
    await verifyCounts(t, bounds);
    answers.errors += t.errors;
    answers.failures.push(...t.failures);
  }
  await verifyCounts(answers, bounds);
  note(
    `  ${state.padEnd(5)} ${request.label.padEnd(38)} ${Math.round(m.qps).toString().padStart(6)} q/s  ` +
      `p50 ${m.p50.toFixed(2)} ms  p99 ${m.p99.toFixed(2)} ms  errors ${answers.errors}  x-cache ${JSON.stringify(answers.cache)}` +
      (paired ? `  interleaved ${Math.round(paired.qps)} vs /ping ${Math.round(paired.pingQps)} q/s` : ""),
  );
  for (const f of answers.failures) note(`    ${f}`);
  return { state, request: request.label, inFlight: opts.inFlight, m, answers, cpu, paired };
}

/** Pairs of alternating slices, and the length of each, in `interleaved`. */
const PAIRS = 4;
const SLICE_S = 2;

/**
 * Throughput of `request` and of `/ping` in alternating 2 s slices: other work on the machine
 * (benchmarks, tests) comes and goes over the minute a state takes, so the row's ratio to a
 * `/ping` measured a minute earlier says as much about that as about the route. Slices a few
 * seconds apart see the same load. Every answer is checked as in the row.
 */
async function interleaved(
  client: SearchClient,
  request: (typeof REQUESTS)[number],
  opts: Options,
): Promise<NonNullable<SearchRow["paired"]> & { tallies: AnswerTally[] }> {
  const pingTally = emptyTally();
  const tally = emptyTally();
  const sum = { ping: { n: 0, s: 0 }, search: { n: 0, s: 0 } };
  const slice = (paths: string[], t: AnswerTally, maxOps: number) =>
    drive(checkedGet(client, paths, t), {
      concurrency: opts.inFlight,
      maxOps,
      maxSeconds: SLICE_S,
    });
  for (let k = 0; k < PAIRS; k++) {
    const ping = await slice(["/ping"], pingTally, PING_MAX_OPS);
    sum.ping.n += ping.queries;
    sum.ping.s += ping.seconds;
    const search = await slice(request.paths, tally, request.maxOps);
    sum.search.n += search.queries;
    sum.search.s += search.seconds;
  }
  return { qps: sum.search.n / sum.search.s, pingQps: sum.ping.n / sum.ping.s, tallies: [pingTally, tally] };
}

/**
 * `npm run bench -- search`: fills a dedicated catalogue with a generated feed of 10,000 plans ×
 * 100 zones through the real pull path, serves the production bundle on workerd, and measures
 * `/search` (whole catalogue, one week, a mix of ranges) against `/ping` of the same Worker, with
 * the fake provider up, down and slow while a background loop pulls it every `--pull-every` seconds (1 by default, 60× the cron). Each
 * `/search` row is followed by alternating slices of it and `/ping`, whose ratio is the target's. Exits
 * non-zero only for wrong answers: not a 200, a body that does not parse, or a number of events
 * the database does not hold.
 */
export async function run(args: string[]): Promise<void> {
  const opts = parse(args);
  const stack = await ensureStack();
  const url = await benchDatabase(stack, DATABASE);
  const fake = await spawnFakeProvider(repoRoot, await freePort());
  const deps = pullDeps(url, stack.proxy, { url: stack.bridge.url, token: stack.bridge.token(DATABASE) });
  const apiKey = `bench_${randomBytes(16).toString("hex")}`;
  const providerUrl = `${fake.url}/api/events`;
  const vars = wranglerVars(join(repoRoot, "wrangler.toml"));
  const loop = new PullLoop(
    deps,
    { url: providerUrl, timeoutMs: Number(vars.PROVIDER_TIMEOUT_MS ?? 5000) },
    opts.pullEvery * 1000,
  );
  let worker: Awaited<ReturnType<typeof serveBundle>> | undefined;
  let client: SearchClient | undefined;
  const states: StateResult[] = [];
  const loadBefore = loadavg()[0] as number;
  try {
    note(`filling ${DATABASE} from ${fake.url}/generated?events=${opts.events}&zones=${opts.zones}…`);
    const fill = await fillCatalogue(deps, `${fake.url}/generated?events=${opts.events}&zones=${opts.zones}`);
    note(`  ${JSON.stringify(fill)}`);
    if (fill.pull.status !== "ok") throw new Error(`the fill pull failed: ${fill.pull.error}`);
    // What each query returns before any background pull: the fewest events a right answer can hold.
    const fewest = new Map<string, number>();
    for (const path of REQUESTS.flatMap((r) => r.paths).filter((p) => p !== "/ping"))
      fewest.set(path, await catalogueCount(deps.db, path));
    const bounds = async (path: string): Promise<[number, number]> => [
      fewest.get(path) ?? 0,
      await catalogueCount(deps.db, path),
    ];

    note("building the production bundle and serving it with Miniflare…");
    worker = await serveBundle({
      ...vars,
      // One JSON line per request would be written through this process's stdout; warnings still show.
      LOG_LEVEL: "warn",
      DATABASE_URL: url,
      UPSTASH_REDIS_REST_URL: stack.bridge.url,
      UPSTASH_REDIS_REST_TOKEN: stack.bridge.token(DATABASE),
      NEON_LOCAL_PROXY: stack.proxy,
      REDIS_RETRIES: "0",
      API_KEYS: JSON.stringify([{ id: "bench", key: apiKey, scopes: ["admin"] }]),
      PROVIDER_URL: providerUrl,
    });
    client = new SearchClient(worker.url, opts.inFlight);
    const pids = watchedPids(stack.dir);
    note(`  watching CPU of ${JSON.stringify(pids)}`);

    loop.start();
    for (const state of opts.states) {
      const mode = MODES[state];
      if (!mode) throw new Error(`unknown state ${state}: use up, down, slow`);
      const switched = await fetch(`${fake.url}/__mode?${mode}`, { method: "POST" });
      if (switched.status !== 204) throw new Error(`the fake provider refused ${mode}`);
      loop.label = state;
      const rows: SearchRow[] = [];
      for (const request of REQUESTS) rows.push(await measure(client, pids, state, request, opts, bounds));
      const status = await client.get("/v1/admin/provider", {
        authorization: `Bearer ${apiKey}`,
        "accept-encoding": "identity",
      });
      const s = JSON.parse(status.body.toString()) as { status?: string; last_error?: string | null };
      states.push({
        state,
        rows,
        pulls: loop.tally(state),
        lastPull: `${s.status}${s.last_error ? ` (${s.last_error})` : ""}`,
      });
    }
    await loop.stop();

    console.log(
      `Load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${(loadavg()[0] as number).toFixed(2)}\n`,
    );
    console.log(searchMarkdown(states, fill, TARGET));
    const below = belowTarget(states, TARGET);
    note(
      below.length
        ? `below ${TARGET}× /ping:\n  ${below.join("\n  ")}`
        : `every /search row ≥ ${TARGET}× /ping`,
    );
  } finally {
    await loop.stop();
    client?.close();
    await worker?.dispose();
    await fake.close();
    await deps.close();
    await stack.stop();
  }
  const errors = states.reduce((n, s) => n + s.rows.reduce((m, r) => m + r.answers.errors, 0), 0);
  if (errors > 0) {
    note(`${errors} answers were wrong (status, body, or number of events)`);
    process.exitCode = 1;
  }
}

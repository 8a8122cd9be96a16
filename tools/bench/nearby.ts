import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { DensityCache } from "../../src/profiles/density";
import type { NearbyHit } from "../../src/profiles/schemas";
import { redisKeys } from "../../src/redis/keys";
import { Command, integer, list } from "../lib/cli";
import { loadProfiles, queryPoints, stackIndex } from "../load/profiles";
import type { RespValue } from "../stack/resp";
import { ensureStack, type StackHandle } from "../stack/stack";
import { benchBindings } from "./lib/bindings";
import { drive, type Measured } from "./lib/drive";
import { NaiveIndex, type NearbyQuery, settledMemory } from "./lib/naive";
import { checkNearby } from "./lib/nearby-check";
import {
  ENGINE,
  ENGINE_COLD,
  HTTP_PG,
  HTTP_REDIS,
  mb,
  NAIVE,
  nearbyMarkdown,
  PG,
  PGBENCH,
  PING,
  RAW,
  type Row,
  type SizeResult,
} from "./lib/nearby-report";
import { benchDatabase, PostgisContender, pgbenchCeiling } from "./lib/postgis";
import { RedisContenders } from "./lib/redis-engines";
import { KeepAliveClient, serveBundle } from "./lib/worker";

interface Options {
  sizes: number[];
  queries: number;
  radius: number;
  limit: number;
  seconds: number;
  city: string;
  seed: number;
  checks: number;
  httpChecks: number;
  /** Leave out the HTTP contenders (no bundle is built). */
  skipHttp: boolean;
}

interface Ctx {
  stack: StackHandle;
  url: string;
  redis: RedisContenders;
  pg: PostgisContender;
  http: KeepAliveClient | undefined;
  opts: Options;
}

const DATABASE = "geoedge_bench";
const note = (s: string) => process.stderr.write(`${s}\n`);
/** Redis's CPU share and CPU time per query: a cost that stays comparable when the client is the bottleneck. */
const redisCpu = (m: Measured) =>
  m.serverCpu === undefined
    ? ""
    : `Redis CPU ${Math.round(m.serverCpu * 100)} %, ${Math.round((m.serverCpu / m.qps) * 1e6)} µs/query`;

function parse(args: string[]): Options {
  const cli = new Command({
    prog: "npm run bench -- nearby",
    description: `Nearby search at each size: the naive in-memory scan, raw GEOSEARCH, the Redis and PostGIS engines,
and GET /v1/profiles/nearby on workerd with /ping as its ceiling; every answer checked against brute force.`,
  });
  cli.add_argument("--sizes", {
    type: list(integer(1000, 100_000_000)),
    default: [100_000, 1_000_000],
    help: "profile counts to load, comma-separated (default: 100000,1000000)",
  });
  cli.add_argument("--queries", {
    type: integer(1, 1_000_000),
    default: 20_000,
    help: "query points (default: %(default)s)",
  });
  cli.add_argument("--radius", {
    type: integer(1, 50_000),
    default: 1000,
    help: "search radius in metres (default: %(default)s)",
  });
  cli.add_argument("--limit", {
    type: integer(1, 1000),
    default: 20,
    help: "results per query (default: %(default)s)",
  });
  cli.add_argument("--seconds", {
    type: integer(1, 3600),
    default: 10,
    help: "seconds per measured row (default: %(default)s)",
  });
  cli.add_argument("--city", {
    default: "madrid",
    help: "the city the profiles spread over (default: %(default)s)",
  });
  cli.add_argument("--seed", { type: integer(0), default: 42, help: "random seed (default: %(default)s)" });
  cli.add_argument("--checks", {
    type: integer(0, 1_000_000),
    default: 1000,
    help: "answers checked per engine (default: %(default)s)",
  });
  cli.add_argument("--http-checks", {
    type: integer(0, 100_000),
    default: 100,
    dest: "httpChecks",
    help: "HTTP answers checked (default: %(default)s)",
  });
  cli.add_argument("--skip-http", {
    action: "store_true",
    dest: "skipHttp",
    help: "leave out the HTTP rows (no bundle is built)",
  });
  return cli.parse_args(args) as Options;
}

const nearbyPath = (q: NearbyQuery, engine: string) =>
  `/v1/profiles/nearby?lat=${q.lat}&lon=${q.lon}&radius_m=${q.radiusM}&limit=${q.limit}&engine=${engine}`;

/** The contenders at one radius, in the order of the table. */
async function benchRadius(ctx: Ctx, naive: NaiveIndex, radiusM: number, first: boolean): Promise<Row[]> {
  const { redis, pg, http, opts } = ctx;
  const points = queryPoints(opts.city, opts.seed, Math.min(opts.queries, 20_000), 2);
  const q = (i: number): NearbyQuery => {
    const [lat, lon] = points[i % points.length] as [number, number];
    return { lat, lon, radiusM, limit: opts.limit };
  };
  const bound = { maxOps: opts.queries, maxSeconds: opts.seconds };
  const rows: Row[] = [];
  const add = (contender: string, inFlight: number, m: Measured, extra: Partial<Row> = {}) => {
    rows.push({ contender, radiusM, inFlight, m, ...extra });
    note(`  ${contender} @ ${radiusM} m: ${Math.round(m.qps)} q/s, p50 ${m.p50.toFixed(2)} ms`);
  };

  // Single core, one query at a time: its throughput is queries per second per core.
  const naiveBound = { maxOps: Math.min(opts.queries, 400), maxSeconds: opts.seconds };
  add(NAIVE, 1, await drive(async (i) => naive.nearby(q(i)), { concurrency: 1, warmUp: 3, ...naiveBound }));

  const raw = await drive((i) => redis.geosearch(q(i), false), {
    concurrency: 50,
    warmUp: 500,
    watchPid: redis.pid,
    ...bound,
  });
  add(RAW, 50, raw, { notes: redisCpu(raw) });

  // A new isolate first (every block's counts read on first use), then the steady state: the
  // same queries again with the counts the first pass left in the cache.
  redis.density = new DensityCache();
  const adaptiveRun = async (warmUp: number) => {
    let rounds = 0;
    let searched = 0;
    let answered = 0;
    const missesBefore = redis.density.misses;
    const m = await drive(
      async (i) => {
        const a = await redis.adaptive(q(i), false);
        rounds += a.rounds;
        searched += a.searchedRadiusM;
        answered++;
      },
      { concurrency: 50, warmUp, watchPid: redis.pid, ...bound },
    );
    const notes =
      `${(rounds / answered).toFixed(2)} rounds, searched ${Math.round(searched / answered)} m on average, ` +
      `${redis.density.misses - missesBefore} density reads; ${redisCpu(m)}`;
    return { m, notes };
  };
  const cold = await adaptiveRun(0);
  add(ENGINE_COLD, 50, cold.m, { notes: cold.notes });
  const warm = await adaptiveRun(500);
  add(ENGINE, 50, warm.m, { notes: warm.notes });

  add(PG, 8, await drive((i) => pg.nearby(q(i)), { concurrency: 8, warmUp: 200, ...bound }));
  add(
    PGBENCH,
    8,
    await pgbenchCeiling(
      ctx.stack,
      DATABASE,
      points.slice(0, 5000),
      { radiusM, limit: opts.limit },
      8,
      opts.seconds,
    ),
  );

  if (!http) return rows;
  const httpBound = { concurrency: 32, warmUp: 200, ...bound };
  if (first) {
    const m = await drive(() => http.ok("/ping"), httpBound);
    rows.push({ contender: PING, radiusM: 0, inFlight: 32, m });
    note(`  /ping: ${Math.round(m.qps)} q/s`);
  }
  for (const engine of ["redis", "postgis"]) {
    const m = await drive((i) => http.ok(nearbyPath(q(i), engine)), httpBound);
    add(engine === "redis" ? HTTP_REDIS : HTTP_PG, 32, m);
  }
  return rows;
}

async function benchSize(ctx: Ctx, size: number): Promise<SizeResult> {
  const { stack, redis, pg, opts } = ctx;
  note(`\n== ${size.toLocaleString("en-US")} rows (${opts.city}, seed ${opts.seed})`);
  const loadBefore = loadavg()[0] as number;
  await redis.client.send(["DEL", redis.key]);
  const memBefore = await redis.usedMemory();
  const load = await loadProfiles({
    count: size,
    seed: opts.seed,
    city: opts.city,
    databaseUrl: ctx.url,
    localProxy: stack.proxy,
    truncate: true,
    redis: stackIndex(stack, DATABASE, redis.key),
    progress: true,
  });
  const perMember = ((await redis.usedMemory()) - memBefore) / size;
  const sizes = await pg.sizes();

  const before = settledMemory();
  const naive = NaiveIndex.generate({ count: size, seed: opts.seed, city: opts.city });
  const after = settledMemory();

  // How dense the data is where the benchmark searches: rows within 1 km of its first query points.
  const counts = await Promise.all(
    queryPoints(opts.city, opts.seed, 200, 2).map(async ([lat, lon]) => {
      const reply = (await redis.client.send([
        "GEOSEARCH",
        redis.key,
        "FROMLONLAT",
        lon,
        lat,
        "BYRADIUS",
        1000,
        "m",
      ])) as RespValue[];
      return reply.length / Math.PI;
    }),
  );
  counts.sort((a, b) => a - b);

  const rows: Row[] = [];
  for (const [n, radiusM] of [...new Set([opts.radius, 150])].entries()) {
    rows.push(...(await benchRadius(ctx, naive, radiusM, n === 0)));
  }
  for (const row of rows) {
    if (row.contender === NAIVE)
      row.memory = `+${mb(after.retained - before.retained)} live (process RSS ${mb(after.rss)})`;
    if (row.contender === RAW) row.memory = `${Math.round(perMember)} B/member (used_memory)`;
    if (row.contender === PG) row.memory = `table ${mb(sizes.table)} + indexes ${mb(sizes.indexes)}`;
  }

  note(`  correctness: ${opts.checks} queries against brute force…`);
  const viaHttp = (engine: string) => async (q: NearbyQuery) =>
    (JSON.parse(await (ctx.http as KeepAliveClient).ok(nearbyPath(q, engine))) as { results: NearbyHit[] })
      .results;
  const correctness = await checkNearby(
    naive,
    [
      { engine: "raw GEOSEARCH", answer: (q) => redis.geosearch(q) },
      { engine: "Redis engine (adaptive)", answer: async (q) => (await redis.adaptive(q)).hits },
      { engine: "PostGIS engine (nearbyPostgis)", answer: (q) => pg.nearby(q) },
      ...(ctx.http
        ? [
            { engine: "HTTP engine=redis", answer: viaHttp("redis"), sample: opts.httpChecks },
            { engine: "HTTP engine=postgis", answer: viaHttp("postgis"), sample: opts.httpChecks },
          ]
        : []),
    ],
    { city: opts.city, seed: opts.seed, count: opts.checks },
  );
  return {
    size,
    loadRowsPerSec: load.rowsPerSec,
    clusterSeconds: load.clusterSeconds ?? 0,
    density: { p50: counts[100] ?? 0, p90: counts[180] ?? 0 },
    loadAverage: [loadBefore, loadavg()[0] as number],
    rows,
    correctness,
  };
}

/**
 * `npm run bench -- nearby`: for each size, loads the same synthetic city into the `geoedge_bench`
 * database and the live Redis index, then measures side by side a naive in-memory scan, Redis's
 * full-radius GEOSEARCH, the app's adaptive Redis search, the app's PostGIS query (and the same SQL
 * through pgbench), and the HTTP endpoint on workerd with /ping as its ceiling; then checks every
 * engine against brute force. Exits non-zero only for correctness failures.
 */
export async function run(args: string[]): Promise<void> {
  const opts = parse(args);
  const stack = await ensureStack();
  const url = await benchDatabase(stack, DATABASE);
  // The Worker reads the live key, so the HTTP contenders need the rows there; tests use unique ids
  // far from the benchmark's city and never rely on this key's contents.
  const redis = await RedisContenders.open(stack.redis(DATABASE), redisKeys.profiles());
  const pg = new PostgisContender(url, stack.proxy, 8);
  const apiKey = `bench_${randomBytes(16).toString("hex")}`;
  let worker: Awaited<ReturnType<typeof serveBundle>> | undefined;
  let http: KeepAliveClient | undefined;
  const results: SizeResult[] = [];
  try {
    if (!opts.skipHttp) {
      note("building the production bundle and serving it with Miniflare…");
      worker = await serveBundle(benchBindings(stack, DATABASE, apiKey, ["read"]));
      http = new KeepAliveClient(worker.url, 32, { authorization: `Bearer ${apiKey}` });
    }
    const ctx: Ctx = { stack, url, redis, pg, http, opts };
    for (const size of opts.sizes) results.push(await benchSize(ctx, size));
  } finally {
    await redis.client.send(["DEL", redis.key]).catch(() => undefined);
    http?.close();
    await worker?.dispose();
    await redis.close();
    await pg.close();
    await stack.stop();
  }
  console.log(nearbyMarkdown(results, opts.radius));
  const failed = results.some((r) => r.correctness.some((c) => c.failed > 0));
  if (failed) process.exitCode = 1;
}

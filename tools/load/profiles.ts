import { parseArgs } from "node:util";
import { redisKeys } from "../../src/redis/keys";
import { RespClient, type RespTarget } from "../stack/resp";
import { cities, cityNamed } from "./cities";
import { generateProfiles, type ProfileChunk } from "./generate";
import { Progress } from "./progress";
import { geoaddChunk, neonWriter } from "./write";

export { cities } from "./cities";
export { generateProfiles, type ProfileChunk, profileId, queryPoints } from "./generate";

/** What {@link loadProfiles} loads and where. */
export interface LoadOptions {
  count: number;
  /** 42 by default; ids are `p-<seed>-<n>`. */
  seed?: number;
  /** A key of {@link cities}; madrid by default. */
  city?: string;
  databaseUrl: string;
  /** host:port of the local stack's Neon WebSocket proxy, for a local URL; unset for Neon itself. */
  localProxy?: string;
  /** Empty `profiles` first (and DEL the Redis key when seeding Redis). */
  truncate?: boolean;
  /**
   * Rewrite `profiles` in the order of its GiST index afterwards (`CLUSTER`), so that profiles near
   * each other on the map share heap pages: the PostGIS nearby query then reads 20 rows from a few
   * pages instead of 20, and cost 250 instead of 400 µs of Postgres time per query at 1 M rows. It
   * holds an exclusive lock on the table while it runs (about 10 s per million rows here). Default:
   * on with `truncate`, when the table is being rebuilt anyway.
   */
  cluster?: boolean;
  /** Also GEOADD every row into `key` (the live index `geo:profiles` by default) of this Redis. */
  redis?: RespTarget & { key?: string };
  chunkSize?: number;
  /** Draw a progress bar on stderr. */
  progress?: boolean;
}

/** What a load did. */
export interface LoadSummary {
  rows: number;
  /** Writing the rows (and seeding Redis), without the CLUSTER that may follow. */
  seconds: number;
  rowsPerSec: number;
  /** How long the CLUSTER took, when there was one. */
  clusterSeconds?: number;
  redisKey?: string;
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "localhost" || host.startsWith("127.") || host === "[::1]";
}

/**
 * Generates `count` profiles and upserts them into Postgres in chunks (memory stays bounded by a
 * couple of chunks), optionally seeding the Redis GEO index with the same rows. Deterministic in
 * the seed; loading again with the same seed rewrites the same rows.
 */
export async function loadProfiles(opts: LoadOptions): Promise<LoadSummary> {
  const seed = opts.seed ?? 42;
  const city = opts.city ?? "madrid";
  cityNamed(city); // an unknown city must fail before --truncate empties anything
  const chunkSize = opts.chunkSize ?? 10_000;
  const writer = neonWriter(opts.databaseUrl, opts.localProxy);
  const redis = opts.redis ? await RespClient.connect(opts.redis) : undefined;
  const key = opts.redis?.key ?? redisKeys.profiles();
  const progress = opts.progress ? new Progress("profiles", opts.count) : undefined;
  const started = performance.now();
  let seconds = 0;
  let clusterSeconds: number | undefined;
  try {
    if (opts.truncate) {
      await writer.exec("TRUNCATE profiles");
      await redis?.send(["DEL", key]);
    }
    let done = 0;
    // Two chunks in flight: the next one is generated and shipped while Postgres digests this one.
    const inFlight = new Set<Promise<void>>();
    const ship = async (chunk: ProfileChunk) => {
      await Promise.all([writer.write(chunk), redis ? geoaddChunk(redis, key, chunk) : undefined]);
      done += chunk.ids.length;
      progress?.update(done);
    };
    for (const chunk of generateProfiles({ count: opts.count, seed, city, chunkSize })) {
      const p = ship(chunk).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= 2) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    progress?.finish();
    seconds = (performance.now() - started) / 1000;
    if (opts.cluster ?? opts.truncate) {
      const clusterStarted = performance.now();
      await writer.exec("CLUSTER profiles USING profiles_location_gist");
      clusterSeconds = (performance.now() - clusterStarted) / 1000;
    }
    // Fresh statistics, so the planner picks the GiST index for the very next query.
    await writer.exec("ANALYZE profiles");
  } finally {
    await writer.close();
    await redis?.close();
  }
  return {
    rows: opts.count,
    seconds,
    rowsPerSec: opts.count / seconds,
    ...(clusterSeconds !== undefined ? { clusterSeconds } : {}),
    ...(opts.redis ? { redisKey: key } : {}),
  };
}

const USAGE = `usage: npm run load:profiles -- --count N [--city ${Object.keys(cities).join("|")}] [--seed 42]
       [--database geoedge] [--redis] [--truncate] [--[no-]cluster] [--chunk rows]

Writes N synthetic profiles (ids p-<seed>-<n>) into a local database of the stack (geoedge by
default), or into DATABASE_URL when it is set and --database is not. --redis also seeds the local
Redis index geo:profiles; --truncate empties profiles (and that key) first. --cluster (the default
with --truncate; --no-cluster skips it) then rewrites the table in the order of its location
index, so nearby queries read fewer pages; it locks the table while it runs.`;

/** `npm run load:profiles`: the command line around {@link loadProfiles}. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    allowNegative: true,
    options: {
      count: { type: "string" },
      city: { type: "string", default: "madrid" },
      seed: { type: "string", default: "42" },
      database: { type: "string" },
      redis: { type: "boolean", default: false },
      truncate: { type: "boolean", default: false },
      cluster: { type: "boolean" },
      chunk: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  const count = Number(values.count);
  const seed = Number(values.seed);
  if (values.help || !Number.isInteger(count) || count <= 0 || !Number.isInteger(seed) || seed < 0) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const envUrl = values.database ? undefined : process.env.DATABASE_URL;
  const common = {
    count,
    seed,
    city: values.city,
    truncate: values.truncate,
    ...(values.cluster !== undefined ? { cluster: values.cluster } : {}),
    progress: true,
    ...(values.chunk ? { chunkSize: Number(values.chunk) } : {}),
  };
  let databaseUrl: string;
  let summary: LoadSummary;
  if (envUrl && !isLoopback(envUrl)) {
    if (values.redis) {
      throw new Error(
        "--redis seeds the local stack's Redis; for a deployment, let the profile sync rebuild it",
      );
    }
    databaseUrl = envUrl;
    summary = await loadProfiles({ ...common, databaseUrl });
  } else {
    // The stack is left running (like db:migrate): a seeded Redis would not outlive stopping it.
    const { ensureStack } = await import("../stack/stack");
    const { migrateDatabase } = await import("../db/migrate");
    const stack = await ensureStack();
    const database = values.database ?? (envUrl ? new URL(envUrl).pathname.slice(1) : "geoedge");
    databaseUrl = envUrl ?? stack.postgres.url(database);
    await migrateDatabase(databaseUrl, stack.proxy);
    summary = await loadProfiles({
      ...common,
      databaseUrl,
      localProxy: stack.proxy,
      ...(values.redis ? { redis: stack.redis(database) } : {}),
    });
  }
  const { host, pathname } = new URL(databaseUrl);
  console.log(
    `loaded ${summary.rows.toLocaleString("en-US")} profiles (${values.city}, seed ${seed}) into ${host}${pathname} ` +
      `in ${summary.seconds.toFixed(1)} s: ${Math.round(summary.rowsPerSec).toLocaleString("en-US")} rows/s` +
      (summary.clusterSeconds !== undefined
        ? `, then clustered in ${summary.clusterSeconds.toFixed(1)} s`
        : "") +
      (summary.redisKey ? `; Redis key ${summary.redisKey} seeded too` : ""),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}

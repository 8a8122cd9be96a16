import { ArgumentTypeError, BooleanOptionalAction } from "argparse";
import { createDb } from "../../src/db/client";
import { createLogger } from "../../src/log";
import { requestRebuild } from "../../src/profiles/sync";
import { syncHorizon } from "../../src/profiles/sync-repo";
import {
  caughtUpState,
  LOCK_TTL_MS,
  readState,
  releaseSyncLock,
  renewSyncLock,
  SYNC_STATE_VERSION,
  type SyncDeps,
  syncKeysFor,
  takeSyncLock,
} from "../../src/profiles/sync-state";
import { createRedis } from "../../src/redis/client";
import { redisKeys } from "../../src/redis/keys";
import { cityNamed, cityNames } from "../lib/cities";
import { Command, integer, oneOf } from "../lib/cli";
import { RespClient, type RespTarget } from "../stack/resp";
import type { StackHandle } from "../stack/stack";
import {
  FIELD_SETS,
  type FieldSet,
  generateProfiles,
  type ProfileChunk,
  SPREADS,
  type Spread,
} from "./generate";
import { Progress } from "./progress";
import { geoaddChunk, neonWriter } from "./write";

export { generateProfiles, legacyProfileId, type ProfileChunk, profileId, queryPoints } from "./generate";

/** What {@link loadProfiles} loads and where. */
export interface LoadOptions {
  count: number;
  /** 42 by default; ids are `p-<seed>-<n>` (UUIDs drawn from the seed with the legacy fields). */
  seed?: number;
  /** A city of `tools/lib/cities.ts`; madrid by default. */
  city?: string;
  /** Around `city` ("city", the default) or over every city ("world"). */
  spread?: Spread;
  /** geoedge's mix of kinds ("standard", the default) or the old distance service's people ("legacy"). */
  fields?: FieldSet;
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
  /**
   * Also GEOADD every row into `key` (the live index `geo:profiles` by default) of this Redis, and
   * leave the index's sync a watermark so it never reads the rows again. `rest` is the same Redis
   * through the stack's Upstash bridge, for the sync's own state and lock.
   */
  redis?: RespTarget & { key?: string; rest: { url: string; token: string } };
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
  /** With `redis`: the horizon (a transaction id) the sync carries on from. */
  watermark?: string;
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "localhost" || host.startsWith("127.") || host === "[::1]";
}

/** The `redis` option of {@link loadProfiles} for a database of the local stack: its own Redis database. */
export function stackIndex(
  stack: Pick<StackHandle, "redis" | "bridge">,
  database: string,
  key?: string,
): NonNullable<LoadOptions["redis"]> {
  return {
    ...stack.redis(database),
    ...(key ? { key } : {}),
    rest: { url: stack.bridge.url, token: stack.bridge.token(database) },
  };
}

/** The sync's dependencies for the index a load seeds, through the app's own clients. */
function syncDeps(opts: LoadOptions & { redis: NonNullable<LoadOptions["redis"]> }, index: string) {
  const handle = createDb({ databaseUrl: opts.databaseUrl, neonLocalProxy: opts.localProxy }, 1);
  const deps: SyncDeps = {
    db: handle.db,
    redis: createRedis({ redis: { ...opts.redis.rest, retries: 0 } }),
    log: createLogger("warn"),
    keys: syncKeysFor(index),
  };
  return { deps, close: () => handle.close() };
}

/** Takes the index's sync lock, waiting out a sync run (which holds it for at most its TTL). */
async function waitForLock(deps: SyncDeps): Promise<string> {
  const deadline = Date.now() + LOCK_TTL_MS + 5000;
  for (;;) {
    const token = await takeSyncLock(deps);
    if (token) return token;
    if (Date.now() > deadline) throw new Error("the profile sync's lock stayed taken; is a sync stuck?");
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * Generates `count` profiles and upserts them into Postgres in chunks (memory stays bounded by a
 * couple of chunks), optionally seeding the Redis GEO index with the same rows. Deterministic in
 * the seed; loading again with the same seed rewrites the same rows.
 *
 * With `redis`, the load holds the index's sync lock throughout (no sync run interleaves), writes
 * each chunk to Redis first and then to Postgres marked as already indexed, and so leaves the sync
 * a watermark: its position stays where it was (or, after `truncate`, starts at the horizon taken
 * before the load), changes others make meanwhile are still synced, and the load's own rows are
 * never read again. A rebuild in progress gets the rows too; an index whose sync had no state yet
 * is rebuilt in the background, since nothing says what it held before.
 */
export async function loadProfiles(opts: LoadOptions): Promise<LoadSummary> {
  const seed = opts.seed ?? 42;
  const city = opts.city ?? "madrid";
  cityNamed(city); // an unknown city must fail before --truncate empties anything
  const chunkSize = opts.chunkSize ?? 10_000;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1)
    throw new Error("chunkSize: must be an integer >= 1");
  const writer = neonWriter(opts.databaseUrl, opts.localProxy, opts.redis !== undefined);
  const resp = opts.redis ? await RespClient.connect(opts.redis) : undefined;
  const index = opts.redis?.key ?? redisKeys.profiles();
  const sync = opts.redis ? syncDeps({ ...opts, redis: opts.redis }, index) : undefined;
  const progress = opts.progress ? new Progress("profiles", opts.count) : undefined;
  let token: string | undefined;
  let seconds = 0;
  let clusterSeconds: number | undefined;
  let watermark: string | undefined;
  try {
    const keys = [index];
    let finish: (() => Promise<void>) | undefined;
    if (sync && resp) {
      token = await waitForLock(sync.deps);
      const { horizon, now } = await syncHorizon(sync.deps.db);
      const state = await readState(sync.deps);
      const building = state.rebuild_id && state.rebuild_in_place !== "1" ? state.rebuild_id : undefined;
      const syncKeys = syncKeysFor(index);
      if (opts.truncate) {
        await writer.exec("TRUNCATE profiles");
        await resp.sendMany([
          ["DEL", index, syncKeys.state, ...(building ? [syncKeys.build(building)] : [])],
          ["HSET", syncKeys.state, ...Object.entries(caughtUpState(horizon, now)).flat().map(String)],
        ]);
        watermark = horizon;
      } else {
        if (building) keys.push(syncKeys.build(building));
        if (state.version !== SYNC_STATE_VERSION) {
          finish = async () => {
            await sync.deps.redis.hset(syncKeys.state, caughtUpState(horizon, now));
            await requestRebuild(sync.deps);
          };
          watermark = horizon;
        } else {
          watermark = state.cursor_xid;
        }
      }
    } else if (opts.truncate) {
      await writer.exec("TRUNCATE profiles");
    }
    const started = performance.now();
    let done = 0;
    // Two chunks in flight: the next one is generated and shipped while Postgres digests this one
    // (on its two connections); with Redis, a third goes to Redis while those two are in Postgres.
    const depth = resp ? 3 : 2;
    const inFlight = new Set<Promise<void>>();
    const ship = async (chunk: ProfileChunk) => {
      if (resp) {
        // Redis first: a row marked as indexed in Postgres is always in the index.
        for (const key of keys) await geoaddChunk(resp, key, chunk);
        if (sync && token && !(await renewSyncLock(sync.deps, token))) {
          throw new Error("lost the profile sync's lock in the middle of the load");
        }
      }
      await writer.write(chunk);
      done += chunk.ids.length;
      progress?.update(done);
    };
    const generated = generateProfiles({
      count: opts.count,
      seed,
      city,
      chunkSize,
      ...(opts.spread ? { spread: opts.spread } : {}),
      ...(opts.fields ? { fields: opts.fields } : {}),
    });
    for (const chunk of generated) {
      const p = ship(chunk).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= depth) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    progress?.finish();
    await finish?.();
    seconds = (performance.now() - started) / 1000;
    if (opts.cluster ?? opts.truncate) {
      const clusterStarted = performance.now();
      await writer.exec("CLUSTER profiles USING profiles_location_gist");
      clusterSeconds = (performance.now() - clusterStarted) / 1000;
    }
    // Fresh statistics, so the planner picks the GiST index for the very next query.
    await writer.exec("ANALYZE profiles");
  } finally {
    if (sync && token) await releaseSyncLock(sync.deps, token).catch(() => {});
    await sync?.close();
    await writer.close();
    await resp?.close();
  }
  return {
    rows: opts.count,
    seconds,
    rowsPerSec: opts.count / seconds,
    ...(clusterSeconds !== undefined ? { clusterSeconds } : {}),
    ...(opts.redis ? { redisKey: index } : {}),
    ...(watermark !== undefined ? { watermark } : {}),
  };
}

/** What `npm run load:profiles` was asked to do. */
export interface LoaderArgs {
  count: number;
  seed: number;
  city: string;
  spread: Spread;
  fields: FieldSet;
  database?: string;
  redis: boolean;
  truncate: boolean;
  cluster?: boolean;
  chunk: number;
}

/** A plain database name of the local stack. */
function databaseName(raw: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(raw)) {
    throw new ArgumentTypeError("must be a plain database name (a-z, 0-9, _)");
  }
  return raw;
}

/** Parses the loader's command line; `throws` makes a bad one throw instead of exiting (tests). */
export function parseLoaderArgs(argv: string[], throws = false): LoaderArgs {
  const cli = new Command({
    prog: "load:profiles",
    throws,
    description: `Writes N synthetic profiles into a local database of the stack (geoedge by default), or into
DATABASE_URL when it is set and --database is not. Deterministic: the same flags write the same
rows (ids p-<seed>-<n>; UUIDs drawn from the seed with --fields legacy).

  npm run load:profiles -- --count 1000000 --city madrid --redis
  npm run load:profiles -- --count 1000000 --spread world --fields legacy --redis   # the old service's data

--redis also writes the rows into the local Redis index and leaves the profile sync a watermark,
so the sync never reads them again; without it the sync indexes them over its next runs.
--truncate empties profiles (and the index) first; --cluster (the default with --truncate)
then rewrites the table in the order of its location index, so nearby queries read fewer pages.`,
  });
  cli.add_argument("--count", {
    type: integer(1, 100_000_000),
    required: true,
    metavar: "N",
    help: "rows to write (1 to 100000000)",
  });
  cli.add_argument("--city", {
    type: oneOf(cityNames),
    metavar: "NAME",
    help: `where the rows lie with --spread city (default madrid): ${cityNames.join(", ")}`,
  });
  cli.add_argument("--spread", {
    type: oneOf(SPREADS),
    default: "city",
    help: "around --city (city, the default), or over every city (world), the old demo point's Indio among them",
  });
  cli.add_argument("--fields", {
    type: oneOf(FIELD_SETS),
    default: "standard",
    help: "geoedge's mix of stores, restaurants, people… (standard, the default), or people with the old distance service's fields (legacy)",
  });
  cli.add_argument("--seed", {
    type: integer(0, 4_294_967_295),
    default: 42,
    metavar: "N",
    help: "(default 42)",
  });
  cli.add_argument("--database", {
    type: databaseName,
    metavar: "NAME",
    help: "a database of the local stack (default geoedge)",
  });
  cli.add_argument("--redis", {
    action: "store_true",
    help: "also write the local Redis index and the sync's watermark",
  });
  cli.add_argument("--truncate", {
    action: "store_true",
    help: "empty profiles (and with --redis the index) first",
  });
  cli.add_argument("--cluster", {
    action: BooleanOptionalAction,
    help: "CLUSTER the table afterwards (default: with --truncate)",
  });
  cli.add_argument("--chunk", {
    type: integer(1, 100_000),
    default: 10_000,
    metavar: "ROWS",
    help: "rows per statement (1 to 100000, default 10000)",
  });
  const args = cli.parse_args(argv) as Omit<LoaderArgs, "city" | "cluster"> & {
    city?: string;
    cluster?: boolean | null;
  };
  if (args.spread === "world" && args.city !== undefined) {
    cli.error("argument --city: not with --spread world, which spreads the rows over every city");
  }
  const { cluster, city, ...rest } = args;
  return { ...rest, city: city ?? "madrid", ...(typeof cluster === "boolean" ? { cluster } : {}) };
}

/** `npm run load:profiles`: the command line around {@link loadProfiles}. */
async function main(): Promise<void> {
  const args = parseLoaderArgs(process.argv.slice(2));
  const envUrl = args.database ? undefined : process.env.DATABASE_URL;
  const common = {
    count: args.count,
    seed: args.seed,
    city: args.city,
    spread: args.spread,
    fields: args.fields,
    truncate: args.truncate,
    ...(args.cluster !== undefined ? { cluster: args.cluster } : {}),
    progress: true,
    chunkSize: args.chunk,
  };
  let databaseUrl: string;
  let summary: LoadSummary;
  if (envUrl && !isLoopback(envUrl)) {
    if (args.redis) {
      throw new Error(
        "--redis seeds the local stack's Redis; for a deployment, let the profile sync index the rows",
      );
    }
    databaseUrl = envUrl;
    summary = await loadProfiles({ ...common, databaseUrl });
  } else {
    // The stack is left running (like db:migrate): a seeded Redis would not outlive stopping it.
    const { ensureStack } = await import("../stack/stack");
    const { ensureBenchDatabase } = await import("../bench/lib/bench-pg");
    const stack = await ensureStack();
    const database = args.database ?? (envUrl ? new URL(envUrl).pathname.slice(1) : "geoedge");
    // Created if missing (a --database of its own), then migrated.
    databaseUrl = await ensureBenchDatabase(stack, database);
    summary = await loadProfiles({
      ...common,
      databaseUrl,
      localProxy: stack.proxy,
      ...(args.redis ? { redis: stackIndex(stack, database) } : {}),
    });
  }
  const { host, pathname } = new URL(databaseUrl);
  const where = args.spread === "world" ? "worldwide" : args.city;
  console.log(
    `loaded ${summary.rows.toLocaleString("en-US")} profiles (${where}, ${args.fields} fields, seed ${args.seed}) ` +
      `into ${host}${pathname} in ${summary.seconds.toFixed(1)} s: ${Math.round(summary.rowsPerSec).toLocaleString("en-US")} rows/s` +
      (summary.clusterSeconds !== undefined
        ? `, then clustered in ${summary.clusterSeconds.toFixed(1)} s`
        : "") +
      (summary.redisKey ? `; Redis key ${summary.redisKey} written too, and the sync's watermark` : ""),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}

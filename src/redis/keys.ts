/** Every Redis key geoedge uses is built here, so names never drift between writers and readers. */
export const redisKeys = {
  /** GEO set of live couriers: member = courier id. */
  liveCouriers: () => "geo:couriers:live",
  /** GEO set of the live couriers in one delivery state (`unknown` when the courier sent none). */
  liveCouriersInState: (state: string) => `geo:couriers:live:${state}`,
  /** Sorted set of live couriers by last-seen epoch milliseconds, used for stale cleanup. */
  courierLastSeen: () => "couriers:last-seen",
  /** Hash of one courier's live state. */
  courierState: (courierId: string) => `courier:${courierId}:state`,
  /** GEO set of live profiles: member = profile id. The one key nearby search reads. */
  profiles: () => "geo:profiles",
  /** A full rebuild's private copy of the profile index, renamed over `profiles()` when complete. */
  profilesBuild: (buildId: string) => `geo:profiles:build:${buildId}`,
  /** Hash of the Postgres → Redis profile sync: watermark, counters, last error, rebuild progress. */
  profileSync: () => "sync:profiles",
  /** Lock held by one sync run (or one bulk load writing the index itself) at a time. */
  profileSyncLock: () => "sync:profiles:lock",
  /** The sync state of a GEO profile index other than the live one (a test's or a benchmark's). */
  indexSync: (index: string) => `${index}:sync`,
  /** The sync lock of such an index. */
  indexSyncLock: (index: string) => `${index}:sync:lock`,
  /** A rebuild's private copy of such an index. */
  indexBuild: (index: string, buildId: string) => `${index}:build:${buildId}`,
  /**
   * Generation of one database's event catalogue (`scope` from {@link databaseScope}): moves on
   * whenever a feed changes what a search can return. The braces keep a database's search keys in
   * one hash slot: the lookup script reads the generation and an entry together.
   */
  searchGeneration: (scope: string) => `events:search:{${scope}}:generation`,
  /**
   * Generation of the events starting in one month (`YYYY-MM`) of a database's catalogue: what a
   * search over a few months depends on, with {@link redisKeys.searchRangesGeneration}.
   */
  searchMonthGeneration: (scope: string, month: string) => `events:search:{${scope}}:generation:${month}`,
  /** Moves on when no month can say which ranges a change touches (an event ending before it starts). */
  searchRangesGeneration: (scope: string) => `events:search:{${scope}}:generation:ranges`,
  /** Prefix of one database's cached `/search` answers: `<prefix><generations>:<query>`. */
  searchCachePrefix: (scope: string) => `events:search:{${scope}}:cache:`,
} as const;

// An isolate serves one database, and parsing its URL on every search showed in the profile; two
// strings, nothing else, are kept between requests.
let lastScope: { url: string; scope: string } | undefined;

/**
 * What tells apart the databases whose caches share one Redis (dev, tests, benchmarks, each
 * deployment): the host, port and name of the database, never its credentials. Keys derived from
 * data in Postgres carry it, so one database's cached answers are never served for another's.
 */
export function databaseScope(databaseUrl: string): string {
  if (lastScope?.url === databaseUrl) return lastScope.scope;
  const url = new URL(databaseUrl);
  const scope = `${url.hostname}:${url.port || "5432"}/${decodeURIComponent(url.pathname.slice(1))}`;
  lastScope = { url: databaseUrl, scope };
  return scope;
}

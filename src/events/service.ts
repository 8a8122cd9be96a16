import type { Db } from "../db/client";
import { type Logger, rootMessage } from "../log";
import type { Redis, RedisOptions } from "../redis/client";
import { redisKeys } from "../redis/keys";
import { AnswerMemory, type KeptAnswer } from "./answers";
import { FeedError, type FeedEvent, parseFeed, textChunks } from "./feed";
import { applyFeed, type FeedChanges, recordPull, type SearchRow, searchEvents } from "./repo";

/** What one provider pull did. */
export interface PullResult {
  status: "ok" | "provider_error" | "invalid_feed" | "database_error";
  durationMs: number;
  eventsSeen?: number;
  eventsChanged?: number;
  skipped?: number;
  error?: string;
}

/** Keeps the last occurrence of each (base id, plan id): one statement cannot upsert a row twice. */
function uniqueEvents(events: FeedEvent[]): FeedEvent[] {
  const byKey = new Map<string, FeedEvent>();
  for (const e of events) byKey.set(JSON.stringify([e.baseId, e.planId]), e);
  return [...byKey.values()];
}

/**
 * Pulls the provider's feed and applies it. A slow or failing provider, or a truncated or malformed
 * feed, changes nothing and is recorded; the next run tries again. When the feed changed anything a
 * search could return, the search cache generation of `deps.scope` (`databaseScope` of the
 * database applied to) moves on.
 */
export async function pullProvider(
  deps: { db: Db; redis: Redis; log: Logger; scope: string; fetch?: typeof fetch },
  provider: { url: string; timeoutMs: number },
): Promise<PullResult> {
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  // Which step failed names the status: the error types differ between runtimes (workerd's
  // refused connection is a plain Error), so they cannot tell a provider from a database failure.
  let stage: "provider" | "database" = "provider";
  let result: PullResult;
  try {
    const res = await (deps.fetch ?? fetch)(provider.url, {
      headers: { accept: "application/xml" },
      signal: AbortSignal.timeout(provider.timeoutMs),
    });
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      result = { status: "provider_error", durationMs: elapsed(), error: `provider answered ${res.status}` };
    } else {
      const feed = await parseFeed(textChunks(res.body));
      const events = uniqueEvents(feed.events);
      stage = "database";
      const changes = await applyFeed(deps.db, events);
      const changed = changes.changed;
      if (changed > 0) await moveGenerations(deps.redis, deps.scope, changes).catch(() => undefined);
      for (const s of feed.skipped)
        deps.log.warn("feed plan skipped", { base_id: s.baseId, plan_id: s.planId, reason: s.reason });
      result = {
        status: "ok",
        durationMs: elapsed(),
        eventsSeen: events.length,
        eventsChanged: changed,
        skipped: feed.skipped.length,
      };
    }
  } catch (error) {
    const status =
      error instanceof FeedError
        ? "invalid_feed"
        : stage === "provider"
          ? "provider_error"
          : "database_error";
    result = { status, durationMs: elapsed(), error: rootMessage(error) };
  }
  if (result.status !== "ok") deps.log.warn("provider pull failed", { ...result });
  await recordPull(deps.db, result).catch((error) =>
    deps.log.error("pull status not recorded", { error: rootMessage(error) }),
  );
  return result;
}

/** Beyond this many months changed at once, every range is invalidated instead of each month. */
const MAX_MONTHS_MOVED = 120;

/**
 * Moves on the generations of what changed: the whole catalogue's, and those of the months a
 * changed event started in (before or after), so cached searches of other months stay valid.
 */
async function moveGenerations(redis: Redis, scope: string, changes: FeedChanges): Promise<void> {
  const pipe = redis.pipeline();
  pipe.incr(redisKeys.searchGeneration(scope));
  if (changes.unordered || changes.months.length > MAX_MONTHS_MOVED)
    pipe.incr(redisKeys.searchRangesGeneration(scope));
  else for (const month of changes.months) pipe.incr(redisKeys.searchMonthGeneration(scope, month));
  await pipe.exec();
}

/** An event in the shape of the search contract. */
export interface SearchEvent {
  id: string;
  title: string;
  start_date: string;
  start_time: string | null;
  end_date: string | null;
  end_time: string | null;
  min_price: number | null;
  max_price: number | null;
}

function toContract(r: SearchRow): SearchEvent {
  return {
    id: r.id,
    title: r.title,
    start_date: r.starts_at.slice(0, 10),
    start_time: r.starts_at.slice(11, 19),
    end_date: r.ends_at.slice(0, 10),
    end_time: r.ends_at.slice(11, 19),
    min_price: r.min_price === null ? null : Number(r.min_price),
    max_price: r.max_price === null ? null : Number(r.max_price),
  };
}

/** How long a cached search answer lives in Redis even if nothing changes. */
const CACHE_TTL_S = 3600;

/**
 * How long an isolate serves its own copy of an answer without asking Redis whether the catalogue
 * moved on: the most a search can lag behind a pull that changed something (pulls run once a minute).
 */
export const SEARCH_FRESH_MS = 1000;

/**
 * Answers kept in this isolate, keyed by database scope and query, each tied to its generation.
 * Module scope on purpose: it outlives the request so the same answer is not fetched,
 * re-transferred, encoded or compressed on every search, and it holds bytes only (no client,
 * socket, stream or pool). 16 MiB hold the whole 10,000-event catalogue (1.8 MB, and its gzip copy)
 * several times over, well inside 128 MB.
 */
const kept = new AnswerMemory(16 * 1024 * 1024);

/**
 * The Redis client `searchCatalogue` wants: one command per round trip (nothing to batch) and
 * plain-JSON replies (cached answers are UTF-8 text; decoding base64 cost more than reading them).
 */
export const SEARCH_REDIS: RedisOptions = { autoPipelining: false, plainReplies: true };

/**
 * One round trip: the query's generation (those of KEYS, joined by commas) and, unless the caller
 * already holds the answer of that generation (ARGV[3]), the entry for this query in it. Entries
 * are stored with a prefix that is not JSON so the client hands them back untouched.
 */
const CACHE_READ_LUA = `
local parts = {}
for i, key in ipairs(KEYS) do parts[i] = redis.call('GET', key) or '0' end
local gen = table.concat(parts, ',')
if gen == ARGV[3] then return { gen } end
return { gen, redis.call('GET', ARGV[1] .. gen .. ':' .. ARGV[2]) }`;

/** A range spanning at most this many calendar months is cached under those months' generations. */
const RANGE_MONTHS = 3;

/** `YYYY-MM` of a month counted from year 0. */
const monthName = (n: number) => `${Math.floor(n / 12)}-${String((n % 12) + 1).padStart(2, "0")}`;
const monthNumber = (dateTime: string) =>
  Number(dateTime.slice(0, 4)) * 12 + Number(dateTime.slice(5, 7)) - 1;

/**
 * The generation keys an answer depends on. An event in the range `[from, to]` starts in one of
 * the range's months (unless it ends before it starts, which moves the ranges' generation), so a
 * range of a few months depends on those months only and survives changes elsewhere in the
 * catalogue; any other query depends on the whole catalogue.
 */
function generationKeys(scope: string, from: string | null, to: string | null): string[] {
  if (from !== null && to !== null) {
    const first = monthNumber(from);
    const last = monthNumber(to);
    if (last >= first && last - first < RANGE_MONTHS) {
      const keys = [redisKeys.searchRangesGeneration(scope)];
      for (let m = first; m <= last; m++) keys.push(redisKeys.searchMonthGeneration(scope, monthName(m)));
      return keys;
    }
  }
  return [redisKeys.searchGeneration(scope)];
}

/** A `/search` answer: the JSON as UTF-8 bytes, gzip-compressed when `encoding` says so. */
export interface SearchAnswer {
  body: Uint8Array;
  encoding: "gzip" | "identity";
  cache: "hit" | "miss" | "off";
}

const utf8 = new TextEncoder();
/** `text` as UTF-8, in a buffer of its own (never a shared one). */
const encoded = (text: string) => utf8.encode(text) as Uint8Array<ArrayBuffer>;

/** What `searchCatalogue` needs; `scope` is `databaseScope(config.databaseUrl)`. */
export interface SearchDeps {
  /** Opened only on a cache miss. */
  db: () => Db;
  /** Created only when the isolate's copy needs confirming or there is none. */
  redis: () => Redis;
  log: Logger;
  scope: string;
  now?: () => number;
}

/**
 * The `/search` answer for the range; never from the provider. In order: the isolate's copy while
 * its generation was confirmed less than {@link SEARCH_FRESH_MS} ago; the isolate's copy once Redis
 * confirms its generation is still current; Redis's entry for the current generation; Postgres
 * (stored in both caches). A Redis outage only costs the caches. With `gzip` (the client accepts
 * it) a kept answer comes gzip-compressed, compressed once per answer and isolate: while one
 * request compresses it, the others wait for that copy (an uncompressed answer to a client that
 * accepts gzip would be compressed again for each of them on the way out).
 */
export async function searchCatalogue(
  deps: SearchDeps,
  from: string | null,
  to: string | null,
  opts: { gzip?: boolean } = {},
): Promise<SearchAnswer> {
  const found = await findAnswer(deps, from, to);
  const { key, answer, cache } = found;
  if (!opts.gzip || key === undefined) return { body: answer.bytes, encoding: "identity", cache };
  if (answer.gzip) return { body: answer.gzip, encoding: "gzip", cache };
  if (compressing.has(answer)) {
    const gzip = await gzipOfOtherRequest(answer);
    return gzip
      ? { body: gzip, encoding: "gzip", cache }
      : { body: answer.bytes, encoding: "identity", cache };
  }
  compressing.add(answer);
  try {
    kept.addGzip(key, answer, await gzipped(answer.bytes));
    return { body: answer.gzip ?? answer.bytes, encoding: answer.gzip ? "gzip" : "identity", cache };
  } catch (error) {
    deps.log.warn("search answer not compressed", { error: rootMessage(error) });
    return { body: answer.bytes, encoding: "identity", cache };
  } finally {
    compressing.delete(answer);
  }
}

/**
 * Kept answers one request of this isolate is compressing. Module scope like `kept`, and it holds
 * the same objects: the stream lives and dies inside the request that compresses.
 */
const compressing = new WeakSet<KeptAnswer>();

/** Waits for the gzip copy another request of this isolate is making; undefined if it failed or took too long. */
async function gzipOfOtherRequest(answer: KeptAnswer): Promise<Uint8Array<ArrayBuffer> | undefined> {
  for (let waited = 0; waited < WAIT_MS && compressing.has(answer); waited += POLL_MS)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  return answer.gzip;
}

/** `bytes` gzip-compressed. */
async function gzipped(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The answer for the range, and its key in `kept` unless it was not kept (Redis unavailable). */
async function findAnswer(
  deps: SearchDeps,
  from: string | null,
  to: string | null,
): Promise<{ key?: string; answer: KeptAnswer; cache: SearchAnswer["cache"] }> {
  const now = deps.now ?? Date.now;
  const query = `${from ?? ""}|${to ?? ""}`;
  const prefix = redisKeys.searchCachePrefix(deps.scope);
  const key = `${prefix}${query}`;
  const mine = kept.get(key);
  const asked = now();
  if (mine && asked - mine.confirmedAt < SEARCH_FRESH_MS) return { key, answer: mine, cache: "hit" };
  let redis: Redis | undefined;
  let generation: string | undefined;
  try {
    redis = deps.redis();
    const [gen, cached] = (await redis.eval(CACHE_READ_LUA, generationKeys(deps.scope, from, to), [
      prefix,
      query,
      mine?.generation ?? "",
    ])) as [string | number, (string | null)?];
    generation = String(gen);
    if (mine?.generation === generation) {
      mine.confirmedAt = asked;
      return { key, answer: mine, cache: "hit" };
    }
    if (typeof cached === "string" && cached.startsWith("b:")) {
      const answer = { generation, bytes: encoded(cached.slice(2)), confirmedAt: asked };
      kept.set(key, answer);
      return { key, answer, cache: "hit" };
    }
  } catch (error) {
    deps.log.warn("search cache unavailable", { error: rootMessage(error) });
  }
  const flight = `${key}\n${generation}`;
  const started = reading.get(flight);
  // Checked and claimed with no await in between, so two requests cannot both see it free.
  if (generation !== undefined && started !== undefined && asked - started < WAIT_MS) {
    const waited = await answerOfOtherRequest(key, generation, flight);
    if (waited !== undefined) return { key, answer: waited, cache: "hit" };
  }
  reading.set(flight, asked);
  try {
    return await readAndStore(deps, redis, generation, { prefix, query, key, asked }, from, to);
  } finally {
    reading.delete(flight);
  }
}

/** How long a miss waits for another request of this isolate reading the same answer, and how often it looks. */
const WAIT_MS = 2000;
const POLL_MS = 10;

/**
 * Answers this isolate is reading from Postgres, by key and generation, with when they started.
 * Module scope for the same reason as `kept`: strings and numbers only. When the catalogue moves on,
 * the requests in flight for one query would otherwise all run the same query and store the same
 * answer; the first reads it and the others wait for it in `kept` (polling: a promise made by one
 * request must not be awaited by another).
 */
const reading = new Map<string, number>();

/** Waits for the answer another request of this isolate is reading; undefined if it gave up or failed. */
async function answerOfOtherRequest(
  key: string,
  generation: string,
  flight: string,
): Promise<KeptAnswer | undefined> {
  for (let waited = 0; waited < WAIT_MS; waited += POLL_MS) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const answer = kept.get(key);
    if (answer?.generation === generation) return answer;
    if (!reading.has(flight)) return undefined;
  }
  return undefined;
}

/** Reads the answer from Postgres and, when the generation is known, keeps it in both caches. */
async function readAndStore(
  deps: SearchDeps,
  redis: Redis | undefined,
  generation: string | undefined,
  at: { prefix: string; query: string; key: string; asked: number },
  from: string | null,
  to: string | null,
): Promise<{ key?: string; answer: KeptAnswer; cache: "miss" | "off" }> {
  const { prefix, query, key, asked } = at;
  // The database is opened only on a miss: a cached answer needs no Postgres connection.
  const rows = await searchEvents(deps.db(), from, to);
  const body = JSON.stringify({ data: { events: rows.map(toContract) }, error: null });
  const answer: KeptAnswer = { generation: generation ?? "", bytes: encoded(body), confirmedAt: asked };
  if (redis && generation !== undefined) {
    // Read after the generation was: if a pull changed the catalogue in between, this answer is
    // filed under the older generation, which is never read again.
    kept.set(key, answer);
    await redis
      .set(`${prefix}${generation}:${query}`, `b:${body}`, { ex: CACHE_TTL_S })
      .catch((error) => deps.log.warn("search cache not written", { error: rootMessage(error) }));
    return { key, answer, cache: "miss" };
  }
  return { answer, cache: "off" };
}

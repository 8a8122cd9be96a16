import { readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { cpuSeconds } from "./drive";

/** One answer as the benchmark checks it. */
export interface Answer {
  status: number;
  body: Buffer;
  /** The `x-cache` header (`hit`, `miss`, `off`), when the route sent one. */
  cache: string | undefined;
  /** The `content-encoding` header (`gzip`), when there was one. */
  encoding: string | undefined;
  /** The `content-length` header, when there was one (not for a chunked answer). */
  length: number | undefined;
}

/** What a full check found in an answer's body: the events and the size of the JSON. */
interface Checked {
  events: number;
  jsonBytes: number;
}

/**
 * A keep-alive HTTP/1.1 client like the harness's `KeepAliveClient`, but one that keeps the
 * response headers (the cache ratio is read from `x-cache`) and the body as bytes: joining a
 * 1.5 MB answer from string pieces would cost the client more than the buffers do. It asks for
 * gzip, as browsers and HTTP libraries do, and does not decompress: `checkedGet` does when it checks.
 */
export class SearchClient {
  private readonly agent: http.Agent;
  /**
   * The last few answers checked in full, by path, encoding and length, with what the check found:
   * an answer with exactly the same bytes (compared byte for byte) is the same answer.
   */
  readonly checked = new Map<string, { bytes: Buffer; found: Checked }[]>();

  constructor(
    private readonly base: string,
    sockets: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  }

  /** GETs `path`; resolves with whatever status came back, rejects only on a transport error. */
  get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const sent = { "accept-encoding": "gzip", ...headers };
      const req = http.get(`${this.base}${path}`, { agent: this.agent, headers: sent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (b: Buffer) => chunks.push(b));
        res.on("end", () => {
          const cache = res.headers["x-cache"];
          const length = res.headers["content-length"];
          resolve({
            status: res.statusCode ?? 0,
            body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks),
            cache: typeof cache === "string" ? cache : undefined,
            encoding: res.headers["content-encoding"],
            length: length === undefined ? undefined : Number(length),
          });
        });
        res.on("error", reject);
      });
      req.on("error", reject);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** What the answers of one measured row looked like. */
export interface AnswerTally {
  answers: number;
  errors: number;
  /** Bytes received (gzip-compressed when the answer was). */
  bytes: number;
  /** Bytes of the JSON answers, decompressed. */
  jsonBytes: number;
  /** Answers parsed and checked in full (the others matched the bytes of one that was). */
  fullChecks: number;
  /** Events in all answers, for the mean per answer. */
  events: number;
  /** Per path, how many answers held each number of events: checked against the database afterwards. */
  counts: Map<string, Map<number, number>>;
  cache: Record<string, number>;
  /** The first few failures, to print. */
  failures: string[];
}

/** A tally with nothing counted yet. */
export const emptyTally = (): AnswerTally => ({
  answers: 0,
  errors: 0,
  bytes: 0,
  jsonBytes: 0,
  fullChecks: 0,
  events: 0,
  counts: new Map(),
  cache: {},
  failures: [],
});

/** Answers checked in full kept per path, encoding and length, to compare later answers with. */
const KEPT_PER_KEY = 4;

/** Every this many answers of a tally is checked in full even when its bytes were checked before. */
export const FULL_CHECK_EVERY = 50;

/**
 * Why a `/search` or `/ping` answer is wrong, or undefined when it is a 200 whose body (gunzipped
 * when it came gzip-compressed) parses as JSON of the right shape.
 */
function problem(path: string, a: Answer): { reason?: string; events: number; jsonBytes: number } {
  if (a.status !== 200)
    return { reason: `${a.status} ${a.body.subarray(0, 200).toString()}`, events: 0, jsonBytes: 0 };
  let parsed: unknown;
  let json: Buffer;
  try {
    json = a.encoding === "gzip" ? gunzipSync(a.body) : a.body;
    parsed = JSON.parse(json.toString("utf8"));
  } catch (error) {
    return { reason: `body does not parse: ${(error as Error).message}`, events: 0, jsonBytes: 0 };
  }
  const jsonBytes = json.byteLength;
  if (path === "/ping")
    return (parsed as { pong?: unknown }).pong === true
      ? { events: 0, jsonBytes }
      : { reason: "no pong", events: 0, jsonBytes };
  const body = parsed as { data?: { events?: unknown }; error?: unknown } | null;
  const events = body?.data?.events;
  if (!Array.isArray(events) || body?.error !== null)
    return { reason: "no data.events array or a non-null error", events: 0, jsonBytes };
  return { events: events.length, jsonBytes };
}

/**
 * Checks an answer: status, encoding and length always; the body in full (`problem`) unless its
 * bytes equal those of an answer of this path checked in full, and anyway when `sample` is set.
 */
function check(
  client: SearchClient,
  path: string,
  a: Answer,
  sample: boolean,
): { reason?: string; events: number; jsonBytes: number; full: boolean } {
  if (a.status !== 200) return { ...problem(path, a), full: true };
  if (a.encoding !== undefined && a.encoding !== "gzip")
    return { reason: `content-encoding ${a.encoding}`, events: 0, jsonBytes: 0, full: false };
  if (a.length !== undefined && a.length !== a.body.byteLength)
    return {
      reason: `${a.body.byteLength} bytes, content-length ${a.length}`,
      events: 0,
      jsonBytes: 0,
      full: false,
    };
  const key = `${path}\n${a.encoding ?? ""}\n${a.body.byteLength}`;
  const seen = client.checked.get(key) ?? [];
  const known = seen.find((c) => c.bytes.equals(a.body));
  if (known && !sample) return { ...known.found, full: false };
  const found = problem(path, a);
  if (found.reason === undefined && !known) {
    seen.push({ bytes: a.body, found: { events: found.events, jsonBytes: found.jsonBytes } });
    if (seen.length > KEPT_PER_KEY) seen.shift();
    client.checked.set(key, seen);
  }
  return { ...found, full: true };
}

/**
 * An operation for `drive`: GETs `paths[i % paths.length]`, checks the answer, and counts it in
 * `tally`. It never throws, so one bad answer is counted rather than ending the row.
 */
export function checkedGet(client: SearchClient, paths: string[], tally: AnswerTally) {
  return async (i: number): Promise<void> => {
    const path = paths[i % paths.length] as string;
    let reason: string | undefined;
    try {
      const a = await client.get(path);
      const checked = check(client, path, a, tally.answers % FULL_CHECK_EVERY === 0);
      reason = checked.reason;
      tally.bytes += a.body.byteLength;
      tally.jsonBytes += checked.jsonBytes;
      tally.events += checked.events;
      if (checked.full) tally.fullChecks++;
      if (checked.reason === undefined && path !== "/ping") {
        const seen = tally.counts.get(path) ?? new Map<number, number>();
        seen.set(checked.events, (seen.get(checked.events) ?? 0) + 1);
        tally.counts.set(path, seen);
      }
      if (a.cache) tally.cache[a.cache] = (tally.cache[a.cache] ?? 0) + 1;
    } catch (error) {
      reason = `transport: ${(error as Error).message}`;
    }
    tally.answers++;
    if (reason === undefined) return;
    tally.errors++;
    if (tally.failures.length < 5) tally.failures.push(`${path}: ${reason}`);
  };
}

/**
 * Counts as errors the answers whose number of events lies outside what the database held, from
 * `bounds(path)` = [fewest, most] (the catalogue only grows while a row runs). A wrong count means
 * the answer came from somewhere else, such as another database's entry in a shared cache.
 */
export async function verifyCounts(
  tally: AnswerTally,
  bounds: (path: string) => Promise<[number, number]>,
): Promise<void> {
  for (const [path, seen] of tally.counts) {
    const [min, max] = await bounds(path);
    for (const [events, n] of seen) {
      if (events >= min && events <= max) continue;
      tally.errors += n;
      if (tally.failures.length < 5)
        tally.failures.push(`${path}: ${n} answers with ${events} events; the database holds ${min}–${max}`);
    }
  }
}

/** Processes whose CPU each row reports; a pid left undefined is reported as unknown. */
export interface Watched {
  workerd: number | undefined;
  /** The stack's services process: the Upstash bridge and the Neon WebSocket proxy. */
  bridge: number | undefined;
  redis: number | undefined;
}

/** Descendants of `pid` (Linux, from /proc), children before grandchildren. */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift() as number;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      let children = "";
      try {
        children = readFileSync(`/proc/${p}/task/${t}/children`, "utf8");
      } catch {}
      for (const c of children.trim().split(/\s+/).filter(Boolean).map(Number)) {
        out.push(c);
        queue.push(c);
      }
    }
  }
  return out;
}

/** The workerd process Miniflare started for this process, and the stack's bridge and Redis. */
export function watchedPids(stackDir: string): Watched {
  const workerd = descendants(process.pid).find((p) => {
    try {
      return readFileSync(`/proc/${p}/comm`, "utf8").trim() === "workerd";
    } catch {
      return false;
    }
  });
  let state: { redis?: { pid: number }; services?: { pid: number } } = {};
  try {
    state = JSON.parse(readFileSync(join(stackDir, "state.json"), "utf8"));
  } catch {}
  return { workerd, bridge: state.services?.pid, redis: state.redis?.pid };
}

/** CPU as a share of one core over a span, per watched process and for this (client) process. */
export type CpuShares = Record<keyof Watched | "client", number | undefined>;

/** Starts a CPU measurement; call the returned function at the end of the span. */
export function cpuSpan(pids: Watched): () => CpuShares {
  const t0 = performance.now();
  const client0 = process.cpuUsage();
  const before = {
    workerd: cpuSeconds(pids.workerd),
    bridge: cpuSeconds(pids.bridge),
    redis: cpuSeconds(pids.redis),
  };
  return () => {
    const seconds = (performance.now() - t0) / 1000;
    const share = (a: number | undefined, b: number | undefined) =>
      a === undefined || b === undefined ? undefined : (b - a) / seconds;
    const client = process.cpuUsage(client0);
    return {
      workerd: share(before.workerd, cpuSeconds(pids.workerd)),
      bridge: share(before.bridge, cpuSeconds(pids.bridge)),
      redis: share(before.redis, cpuSeconds(pids.redis)),
      client: (client.user + client.system) / 1e6 / seconds,
    };
  };
}

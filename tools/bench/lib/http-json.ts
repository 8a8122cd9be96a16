import http from "node:http";

/** One answered request: status, raw body, and how long it took from send to last byte. */
export interface Answer {
  status: number;
  body: string;
  ms: number;
}

/**
 * A keep-alive HTTP/1.1 client for JSON writes: a bare `node:http` agent, so the client costs
 * little next to the Worker it drives. Every request has a timeout, so a stuck Worker fails the
 * request instead of hanging the benchmark.
 */
export class JsonClient {
  private readonly agent: http.Agent;

  constructor(
    private readonly base: string,
    sockets: number,
    private readonly headers: Record<string, string> = {},
    private readonly timeoutMs = 60_000,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  }

  /** Sends `body` as JSON (or nothing); resolves with the answer, rejects on a transport error. */
  request(method: string, path: string, body?: unknown): Promise<Answer> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { ...this.headers };
    if (payload) {
      headers["content-type"] = "application/json";
      headers["content-length"] = payload.length;
    }
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const req = http.request(
        `${this.base}${path}`,
        { method, agent: this.agent, headers, timeout: this.timeoutMs },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (s: string) => {
            text += s;
          });
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, body: text, ms: performance.now() - t0 }),
          );
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer in ${this.timeoutMs} ms`)));
      req.on("error", reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Runs `task` over `items` with at most `concurrency` in flight, in order of the items; resolves
 * when all have settled and rethrows the first failure.
 */
export async function inFlight<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const loop = async () => {
    while (next < items.length) {
      const i = next++;
      await task(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, loop));
}

/** Polls `check` every `everyMs` until it returns a value or `deadlineMs` (epoch ms) passes. */
export async function pollUntil<T>(
  check: () => Promise<T | undefined>,
  deadlineMs: number,
  everyMs = 250,
): Promise<T | undefined> {
  while (Date.now() < deadlineMs) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return check();
}

/** Answers worth sending again: the API says a dependency was unavailable, or it is overloaded. */
const RETRIED = new Set([408, 429, 500, 502, 503, 504]);

/** How a run of batched writes went. */
export interface PostStats {
  requests: number;
  retries: number;
  /** Indexes of the bodies given up on after the retries. */
  failed: number[];
  /** Why each of those was given up on: the last status and body, or the transport error. */
  failedWhy: string[];
  /** Epoch ms of the first request and of the last answer. */
  startedAt: number;
  endedAt: number;
  /** Latency of the answers handed to `onAnswer`, ms, sorted. */
  latencies: Float64Array;
}

/** How `sendBatches` sends. */
export interface SendOptions<B = unknown> {
  concurrency: number;
  /** Retries of one body before it counts as failed; 5 by default. */
  maxRetries?: number;
  /** Body `i` is not sent before `i × paceMs` after the first: a steady offered load. */
  paceMs?: number;
  /**
   * After a retryable answer, what to send next time instead of the whole body (the rows the API
   * named as not recorded, say), so that rows already recorded are not sent twice.
   */
  narrow?: (answer: Answer, body: B) => B;
}

/**
 * Sends `bodies` in order (`method` to `path`, or to `path(body)`), `concurrency` in flight;
 * retries transport errors and retryable statuses up to `maxRetries` times with capped backoff
 * (the write routes are idempotent, so a resent batch is harmless), and hands every other answer
 * to `onAnswer`.
 */
export async function sendBatches<B>(
  client: JsonClient,
  method: "POST" | "PUT",
  path: string | ((body: B) => string),
  bodies: readonly B[],
  opts: SendOptions<B>,
  onAnswer: (answer: Answer, body: B, index: number) => void,
): Promise<PostStats> {
  const maxRetries = opts.maxRetries ?? 5;
  const latencies: number[] = [];
  const stats: PostStats = {
    requests: 0,
    retries: 0,
    failed: [],
    failedWhy: [],
    startedAt: Date.now(),
    endedAt: 0,
    latencies: new Float64Array(),
  };
  await inFlight(bodies, opts.concurrency, async (body, index) => {
    const due = stats.startedAt + index * (opts.paceMs ?? 0);
    if (Date.now() < due) await new Promise((r) => setTimeout(r, due - Date.now()));
    let why = "";
    let current = body;
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      if (attempt > 0) {
        stats.retries++;
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** (attempt - 1))));
      }
      stats.requests++;
      let answer: Answer;
      try {
        answer = await client.request(method, typeof path === "string" ? path : path(current), current);
      } catch (error) {
        why = String(error);
        continue;
      }
      if (RETRIED.has(answer.status)) {
        why = `${answer.status} ${answer.body.slice(0, 200)}`;
        if (opts.narrow) current = opts.narrow(answer, current);
        continue;
      }
      latencies.push(answer.ms);
      onAnswer(answer, body, index);
      return;
    }
    stats.failed.push(index);
    stats.failedWhy.push(why);
  });
  stats.endedAt = Date.now();
  stats.latencies = Float64Array.from(latencies).sort();
  return stats;
}

/** Stats of batches sent side by side (to several Workers) as one run. */
export function mergeStats(parts: readonly PostStats[]): PostStats {
  const all = parts.flatMap((p) => [...p.latencies]);
  return {
    requests: parts.reduce((a, p) => a + p.requests, 0),
    retries: parts.reduce((a, p) => a + p.retries, 0),
    // Indexes within each part: only their number means anything once merged.
    failed: parts.flatMap((p) => p.failed),
    failedWhy: parts.flatMap((p) => p.failedWhy),
    startedAt: Math.min(...parts.map((p) => p.startedAt)),
    endedAt: Math.max(...parts.map((p) => p.endedAt)),
    latencies: Float64Array.from(all).sort(),
  };
}

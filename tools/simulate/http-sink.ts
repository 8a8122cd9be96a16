import { setTimeout as delay } from "node:timers/promises";
import type { SimFix } from "./gps";
import { emptyStats, type Sink } from "./sink";

/** How {@link HttpSink} talks to the API. */
export interface HttpSinkOptions {
  /** The API's base URL (…/v1/positions is added unless already there). */
  url: string;
  key: string;
  /** Fixes per request; 500 by default. */
  batch?: number;
  /** Requests in flight at most; 4 by default. */
  concurrency?: number;
  /** Send `application/x-ndjson` instead of `{"fixes": [...]}`. */
  ndjsonBody?: boolean;
  /** Retries of one batch before it counts as failed; 10 by default. */
  maxRetries?: number;
  /** First backoff and its cap, ms; 250 and 10,000 by default. Doubles per retry, ±25 % jitter. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Per-request timeout, ms; 30,000 by default. */
  timeoutMs?: number;
  /** Where notes go (rejected samples, failed batches); stderr by default. */
  log?: (line: string) => void;
}

/** Responses that no retry and no other batch can fix: the run stops. */
const FATAL: Record<number, string> = {
  401: "the API key was refused (401): check --key",
  403: "the API key lacks the ingest scope (403)",
  404: "the endpoint does not exist (404): is POST /v1/positions deployed at this URL?",
  405: "the endpoint does not take POST (405)",
  413: "the batch is too large for the API (413): lower --batch",
};
/** Notes of each kind printed at most this many times, so a bad run does not flood the terminal. */
const MAX_NOTES = 5;

/**
 * Batched `POST /v1/positions`: fills batches in order, keeps up to `concurrency` requests in
 * flight, retries network errors, timeouts, 429 and 5xx with capped exponential backoff (honouring
 * Retry-After), and counts whatever it gives up on. A retried request may have been applied before
 * it failed, so the API sees at-least-once delivery; the courier objects drop duplicates.
 */
export class HttpSink implements Sink {
  readonly kind = "http";
  readonly stats = emptyStats();
  private readonly endpoint: string;
  private readonly batch: number;
  private readonly concurrency: number;
  private readonly log: (line: string) => void;
  private pending: SimFix[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private fatal: Error | undefined;
  private notes = { rejected: 0, failed: 0 };

  constructor(private readonly opts: HttpSinkOptions) {
    const base = opts.url.replace(/\/+$/, "");
    this.endpoint = base.endsWith("/v1/positions") ? base : `${base}/v1/positions`;
    this.batch = opts.batch ?? 500;
    this.concurrency = opts.concurrency ?? 4;
    this.log = opts.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  async write(fixes: readonly SimFix[]): Promise<void> {
    if (this.fatal) throw this.fatal;
    for (const fix of fixes) {
      this.pending.push(fix);
      if (this.pending.length >= this.batch) {
        const full = this.pending;
        this.pending = [];
        await this.dispatch(full);
      }
    }
    this.stats.queued = this.pending.length;
  }

  async close(): Promise<void> {
    if (this.pending.length > 0 && !this.fatal) await this.dispatch(this.pending);
    this.pending = [];
    this.stats.queued = 0;
    await Promise.all(this.inFlight);
    if (this.fatal) throw this.fatal;
  }

  private async dispatch(batch: SimFix[]): Promise<void> {
    while (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
    if (this.fatal) throw this.fatal;
    const request = this.send(batch).finally(() => {
      this.inFlight.delete(request);
      this.stats.inFlight = this.inFlight.size;
    });
    this.inFlight.add(request);
    this.stats.inFlight = this.inFlight.size;
  }

  /** Sends one batch until it lands or is given up on. Never rejects. */
  private async send(batch: SimFix[]): Promise<void> {
    const ndjson = this.opts.ndjsonBody ?? false;
    const body = ndjson
      ? batch.map((fix) => `${JSON.stringify(fix)}\n`).join("")
      : JSON.stringify({ fixes: batch });
    const headers = {
      authorization: `Bearer ${this.opts.key}`,
      "content-type": ndjson ? "application/x-ndjson" : "application/json",
    };
    const maxRetries = this.opts.maxRetries ?? 10;
    for (let attempt = 0; ; attempt++) {
      let problem: string;
      let retryAfterMs = 0;
      this.stats.requests += 1;
      try {
        const res = await fetch(this.endpoint, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
        });
        const text = await res.text();
        if (res.ok) {
          this.count(batch, text);
          return;
        }
        problem = `HTTP ${res.status}: ${text.slice(0, 300)}`;
        const fatal = FATAL[res.status];
        if (fatal) {
          this.fatal ??= new Error(`${fatal}\n  ${problem}`);
          this.fail(batch, problem);
          return;
        }
        if (res.status === 400) {
          // No fix of the batch was valid: the API rejected all of them (the problem lists why).
          this.count(batch, JSON.stringify({ accepted: 0, rejected_count: batch.length }));
          this.note("rejected", `the whole batch of ${batch.length}: ${problem}`);
          return;
        }
        if (res.status !== 408 && res.status !== 429 && res.status < 500) {
          this.fail(batch, problem);
          return;
        }
        retryAfterMs = Number(res.headers.get("retry-after") ?? 0) * 1000 || 0;
      } catch (error) {
        problem = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
      this.stats.errors += 1;
      if (attempt >= maxRetries || this.fatal) {
        this.fail(batch, `${problem} (after ${attempt + 1} attempts)`);
        return;
      }
      this.stats.retries += 1;
      const cap = this.opts.maxBackoffMs ?? 10_000;
      const backoff =
        Math.min(cap, (this.opts.backoffMs ?? 250) * 2 ** attempt) * (0.75 + Math.random() * 0.5);
      await delay(Math.max(backoff, Math.min(cap, retryAfterMs)));
    }
  }

  /**
   * Counts a 2xx answer `{"accepted": n, "rejected_count": m, "rejected": [...]}` (the list may be
   * cut short; the count is not) and notes the first rejections with the fixes they name.
   */
  private count(batch: SimFix[], text: string): void {
    let body: { accepted?: unknown; rejected_count?: unknown; rejected?: unknown } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // Not JSON: nothing was reported rejected.
    }
    const listed = Array.isArray(body.rejected)
      ? (body.rejected as { index?: unknown; line?: unknown }[])
      : [];
    const rejected = typeof body.rejected_count === "number" ? body.rejected_count : listed.length;
    this.stats.fixes += batch.length;
    this.stats.accepted += typeof body.accepted === "number" ? body.accepted : batch.length - rejected;
    this.stats.rejected += rejected;
    for (const item of listed) {
      // `index` counts from 0 in a JSON body, `line` from 1 in an NDJSON one.
      const at =
        typeof item?.index === "number" ? item.index : typeof item?.line === "number" ? item.line - 1 : -1;
      this.note("rejected", `${JSON.stringify(item)}${at >= 0 ? ` fix: ${JSON.stringify(batch[at])}` : ""}`);
    }
  }

  private fail(batch: SimFix[], problem: string): void {
    this.stats.fixes += batch.length;
    this.stats.failedBatches += 1;
    this.stats.failedFixes += batch.length;
    this.note("failed", `batch of ${batch.length} fixes failed: ${problem}`);
  }

  /** Logs a note of a kind, the first {@link MAX_NOTES} times only. */
  private note(kind: "rejected" | "failed", line: string): void {
    if (this.notes[kind] >= MAX_NOTES) return;
    this.notes[kind] += 1;
    this.log(kind === "rejected" ? `rejected: ${line}` : line);
  }
}

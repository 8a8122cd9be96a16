import type { SimFix } from "../../simulate/gps";
import { quantile } from "./drive";
import { type JsonClient, sendBatches } from "./http-json";

/** What `POST /v1/positions` made of a run's fixes. */
export interface PostResult {
  requests: number;
  /** Fixes the API accepted (202 bodies), duplicates included. */
  accepted: number;
  /** Indexes (into the sent fixes) of rejected fixes the API listed. */
  rejected: number[];
  /** Rejections the API counted but did not list (it lists 100 per request). */
  unlistedRejections: number;
  /** Queue messages the accepted fixes travelled in. */
  messages: number;
  retries: number;
  /** Batches given up on after the retries; their fixes count as not accepted. */
  failedBatches: number[];
  /** Epoch ms of the first request and of the last answer. */
  startedAt: number;
  endedAt: number;
  /** Latency of answered requests, ms. */
  p50: number;
  p99: number;
}

interface Accepted {
  accepted: number;
  rejected_count: number;
  rejected: { index?: number }[];
  messages: number;
}

/**
 * Sends fixes in order as `{"fixes": [...]}` batches of `batch`, `concurrency` requests in flight,
 * retrying what is worth retrying (resending is harmless: a courier's object keeps one fix per
 * recorded time), and adds up the 202 answers.
 */
export async function postFixes(
  client: JsonClient,
  fixes: SimFix[],
  batch: number,
  concurrency: number,
  progress: (sent: number) => void,
): Promise<PostResult> {
  const bodies: { fixes: SimFix[] }[] = [];
  for (let i = 0; i < fixes.length; i += batch) bodies.push({ fixes: fixes.slice(i, i + batch) });
  let accepted = 0;
  let messages = 0;
  let unlistedRejections = 0;
  let sent = 0;
  const rejected: number[] = [];
  const stats = await sendBatches(
    client,
    "POST",
    "/v1/positions",
    bodies,
    { concurrency },
    (answer, body, index) => {
      const start = index * batch;
      if (answer.status === 202) {
        const a = JSON.parse(answer.body) as Accepted;
        accepted += a.accepted;
        messages += a.messages;
        const listed = a.rejected.flatMap((r) => (r.index === undefined ? [] : [start + r.index]));
        rejected.push(...listed);
        unlistedRejections += a.rejected_count - listed.length;
      } else {
        // Anything else (400: nothing valid; 401/403: a wrong key) means no fix of the batch went in.
        process.stderr.write(`  POST answered ${answer.status}: ${answer.body.slice(0, 300)}\n`);
        rejected.push(...body.fixes.map((_, i) => start + i));
      }
      sent += body.fixes.length;
      progress(sent);
    },
  );
  return {
    requests: stats.requests,
    accepted,
    rejected,
    unlistedRejections,
    messages,
    retries: stats.retries,
    failedBatches: stats.failed.map((i) => i * batch),
    startedAt: stats.startedAt,
    endedAt: stats.endedAt,
    p50: quantile(stats.latencies, 0.5),
    p99: quantile(stats.latencies, 0.99),
  };
}

/**
 * The (courier, recorded time) pairs that must reach Postgres: every fix of an answered batch
 * except the rejected ones, once each (the simulator sends some fixes twice). Also each courier's
 * newest recorded time, which its live state in Redis must end at.
 */
export function expectedFixes(
  fixes: SimFix[],
  post: PostResult,
  batch: number,
): { keys: Set<string>; newest: Map<string, number> } {
  const rejected = new Set(post.rejected);
  const failed = new Set(post.failedBatches);
  const keys = new Set<string>();
  const newest = new Map<string, number>();
  fixes.forEach((f, i) => {
    if (rejected.has(i) || failed.has(i - (i % batch))) return;
    keys.add(fixKey(f.courier_id, f.recorded_at));
    if ((newest.get(f.courier_id) ?? 0) < f.recorded_at) newest.set(f.courier_id, f.recorded_at);
  });
  return { keys, newest };
}

/** One fix's identity: what Postgres is unique on. */
export function fixKey(courierId: string, recordedAt: number): string {
  return `${courierId}\t${recordedAt}`;
}

/**
 * `CourierTrack.record` calls the queue consumer makes for these fixes, within bounds: the API sorts
 * each request's fixes by courier and cuts them into `messages` messages, and the consumer calls
 * each courier's object once per message, so a request costs its distinct couriers plus at most one
 * more per cut. Fixes per call is what the per-call cost (an RPC, a SQLite transaction, an alarm) is
 * spread over.
 */
export function objectCalls(fixes: SimFix[], batch: number, messages: number): { min: number; max: number } {
  let min = 0;
  let requests = 0;
  for (let i = 0; i < fixes.length; i += batch) {
    requests++;
    min += new Set(fixes.slice(i, i + batch).map((f) => f.courier_id)).size;
  }
  return { min, max: min + Math.max(0, messages - requests) };
}

import { once } from "node:events";
import { createWriteStream } from "node:fs";
import type { Writable } from "node:stream";
import type { SimFix } from "./gps";

/** What a sink has done so far; read by the progress line. */
export interface SinkStats {
  /** Fixes written (NDJSON) or handed to a request that has since finished (HTTP). */
  fixes: number;
  /** As counted by the API's 202 responses. */
  accepted: number;
  rejected: number;
  requests: number;
  /** Failed attempts (network errors, timeouts, 5xx, 429) … */
  errors: number;
  /** … of which retried. */
  retries: number;
  /** Batches given up on (retries exhausted, or a 4xx) and the fixes in them. */
  failedBatches: number;
  failedFixes: number;
  /** Requests in flight and fixes waiting to fill a batch. */
  inFlight: number;
  queued: number;
}

/** Where fixes go. `write` waits when the sink is saturated, so a fast producer slows down. */
export interface Sink {
  readonly kind: "file" | "http";
  readonly stats: SinkStats;
  write(fixes: readonly SimFix[]): Promise<void>;
  /** Flushes everything (every batch finished or counted as failed), then ends. */
  close(): Promise<void>;
}

/** Zeroed stats for a new sink. */
export function emptyStats(): SinkStats {
  return {
    fixes: 0,
    accepted: 0,
    rejected: 0,
    requests: 0,
    errors: 0,
    retries: 0,
    failedBatches: 0,
    failedFixes: 0,
    inFlight: 0,
    queued: 0,
  };
}

/** One JSON object per line, in the order given. Deterministic: same fixes, same bytes. */
export class NdjsonSink implements Sink {
  readonly kind = "file";
  readonly stats = emptyStats();
  private error: Error | undefined;

  /** Writes to `out`; ends it on close when `owned` (a file), else only drains it (stdout). */
  constructor(
    private readonly out: Writable,
    private readonly owned: boolean,
  ) {
    out.on("error", (error: Error) => {
      this.error ??= error;
    });
  }

  /** NDJSON to a file, or to stdout for "-". */
  static open(path: string): NdjsonSink {
    return path === "-"
      ? new NdjsonSink(process.stdout, false)
      : new NdjsonSink(createWriteStream(path), true);
  }

  async write(fixes: readonly SimFix[]): Promise<void> {
    if (this.error) throw this.error;
    if (fixes.length === 0) return;
    let text = "";
    for (const fix of fixes) text += `${JSON.stringify(fix)}\n`;
    this.stats.fixes += fixes.length;
    if (!this.out.write(text)) await once(this.out, "drain");
  }

  async close(): Promise<void> {
    if (this.error) throw this.error;
    if (this.owned) {
      this.out.end();
      await once(this.out, "finish");
    } else if (this.out.writableNeedDrain) {
      await once(this.out, "drain");
    }
  }
}

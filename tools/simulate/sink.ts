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

/** How a text sink lays fixes out: what comes first, each fix, what comes last. */
export interface TextFormat {
  head: string;
  /** The text of one fix; `first` for the first of the whole output. */
  item(fix: SimFix, first: boolean): string;
  /** `any`: whether any fix was written. */
  tail(any: boolean): string;
}

/** geoedge's fix, one JSON object per line. */
export const ndjsonFormat: TextFormat = {
  head: "",
  item: (fix) => `${JSON.stringify(fix)}\n`,
  tail: () => "",
};

/**
 * Fixes as text, in the order given, to a stream. Deterministic: same fixes, same bytes. Memory
 * stays flat: fixes are written as they come, and a full stream makes the producer wait.
 */
export class TextSink implements Sink {
  readonly kind = "file";
  readonly stats = emptyStats();
  private error: Error | undefined;
  private started = false;

  /** Writes to `out`; ends it on close when `owned` (a file), else only drains it (stdout). */
  constructor(
    private readonly out: Writable,
    private readonly owned: boolean,
    private readonly format: TextFormat = ndjsonFormat,
  ) {
    out.on("error", (error: Error) => {
      this.error ??= error;
    });
  }

  /** To a file, or to stdout for "-". */
  static open(path: string, format: TextFormat = ndjsonFormat): TextSink {
    return path === "-"
      ? new TextSink(process.stdout, false, format)
      : new TextSink(createWriteStream(path), true, format);
  }

  private async put(text: string): Promise<void> {
    if (text && !this.out.write(text)) await once(this.out, "drain");
  }

  async write(fixes: readonly SimFix[]): Promise<void> {
    if (this.error) throw this.error;
    let text = this.started ? "" : this.format.head;
    for (const fix of fixes) {
      text += this.format.item(fix, this.stats.fixes === 0);
      this.stats.fixes += 1;
    }
    this.started = true;
    await this.put(text);
  }

  async close(): Promise<void> {
    if (this.error) throw this.error;
    await this.put(`${this.started ? "" : this.format.head}${this.format.tail(this.stats.fixes > 0)}`);
    if (this.owned) {
      this.out.end();
      await once(this.out, "finish");
    } else if (this.out.writableNeedDrain) {
      await once(this.out, "drain");
    }
  }
}

/** geoedge's NDJSON to a stream (see {@link TextSink}). */
export class NdjsonSink extends TextSink {
  constructor(out: Writable, owned: boolean) {
    super(out, owned, ndjsonFormat);
  }
}

/** A file and the API at once (the old generator's `both`): every fix goes to each. */
export class TeeSink implements Sink {
  readonly kind = "http";

  constructor(
    private readonly file: Sink,
    private readonly http: Sink,
  ) {}

  /** The API's counts: the file takes every fix. */
  get stats(): SinkStats {
    return this.http.stats;
  }

  async write(fixes: readonly SimFix[]): Promise<void> {
    await Promise.all([this.file.write(fixes), this.http.write(fixes)]);
  }

  async close(): Promise<void> {
    await Promise.all([this.file.close(), this.http.close()]);
  }
}

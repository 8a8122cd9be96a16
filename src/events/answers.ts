/** A search answer an isolate keeps, with the catalogue generation it belongs to. */
export interface KeptAnswer {
  generation: string;
  /** The JSON answer as UTF-8, encoded once: a response is built from these bytes, not from a string. */
  bytes: Uint8Array<ArrayBuffer>;
  /** The same answer gzip-compressed, made once on the first request that accepts gzip. */
  gzip?: Uint8Array<ArrayBuffer>;
  /** When Redis last confirmed `generation` is current (epoch ms, taken before asking). */
  confirmedAt: number;
}

const bytesOf = (answer: KeptAnswer) => answer.bytes.byteLength + (answer.gzip?.byteLength ?? 0);

/**
 * Search answers kept in the isolate, bounded by their total size in bytes (both copies of an
 * answer counted), oldest written out first. It holds bytes only: no client, socket, stream or pool,
 * so nothing here outlives an invocation's I/O. Every entry is tied to a generation, so it is only
 * served while that generation is current.
 */
export class AnswerMemory {
  private readonly entries = new Map<string, KeptAnswer>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string): KeptAnswer | undefined {
    return this.entries.get(key);
  }

  /** Keeps `answer` under `key`, replacing what was there; an answer over the bound is not kept. */
  set(key: string, answer: KeptAnswer): void {
    this.delete(key);
    if (bytesOf(answer) > this.maxBytes) return;
    this.entries.set(key, answer);
    this.bytes += bytesOf(answer);
    this.evict();
  }

  /**
   * Gives `answer` its gzip copy. Counted only while `answer` is still the one kept under `key`:
   * one replaced or written out meanwhile is no longer held here.
   */
  addGzip(key: string, answer: KeptAnswer, gzip: Uint8Array<ArrayBuffer>): void {
    if (answer.gzip) return;
    answer.gzip = gzip;
    if (this.entries.get(key) !== answer) return;
    this.bytes += gzip.byteLength;
    this.evict();
  }

  delete(key: string): void {
    const kept = this.entries.get(key);
    if (!kept) return;
    this.entries.delete(key);
    this.bytes -= bytesOf(kept);
  }

  /** Total bytes of the answers kept, gzip copies included. */
  get size(): number {
    return this.bytes;
  }

  private evict(): void {
    for (const [oldest, kept] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= bytesOf(kept);
    }
  }
}

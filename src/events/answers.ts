/** A search answer an isolate keeps, with the catalogue generation it belongs to. */
export interface KeptAnswer {
  generation: string;
  body: string;
  /** When Redis last confirmed `generation` is current (epoch ms, taken before asking). */
  confirmedAt: number;
}

/**
 * Search answers kept in the isolate, bounded by their total length, oldest written out first.
 * It holds strings only: no client, socket or pool, so nothing here outlives an invocation's I/O.
 * Every entry is tied to a generation, so it is only served while that generation is current.
 */
export class AnswerMemory {
  private readonly entries = new Map<string, KeptAnswer>();
  private chars = 0;

  constructor(private readonly maxChars: number) {}

  get(key: string): KeptAnswer | undefined {
    return this.entries.get(key);
  }

  /** Keeps `answer` under `key`, replacing what was there; an answer over the bound is not kept. */
  set(key: string, answer: KeptAnswer): void {
    this.delete(key);
    if (answer.body.length > this.maxChars) return;
    this.entries.set(key, answer);
    this.chars += answer.body.length;
    for (const [oldest, kept] of this.entries) {
      if (this.chars <= this.maxChars) break;
      this.entries.delete(oldest);
      this.chars -= kept.body.length;
    }
  }

  delete(key: string): void {
    const kept = this.entries.get(key);
    if (!kept) return;
    this.entries.delete(key);
    this.chars -= kept.body.length;
  }

  /** Total length of the bodies kept. */
  get size(): number {
    return this.chars;
  }
}

/**
 * A small seeded PRNG (mulberry32) with the draws the loader and the benchmarks need. Reseeding it
 * per row (see {@link rowSeed}) makes every row depend only on the seed and its number, so any
 * range of rows can be generated on its own and a smaller load is a prefix of a bigger one.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Restarts the sequence from `seed`, without allocating a new generator per row. */
  reset(seed: number): this {
    this.state = seed >>> 0;
    return this;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [min, max). */
  range(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /**
   * Standard normal (Box-Muller). Always two uniforms per call, so the number of draws a row makes
   * never depends on the values drawn.
   */
  gauss(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/** murmur3's 32-bit finaliser: spreads nearby inputs (row 1, row 2, …) over the whole seed space. */
function fmix32(input: number): number {
  let h = input >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The seed of row `n` of a load seeded with `seed`, or of any other numbered stream (`salt`). */
export function rowSeed(seed: number, n: number, salt = 0): number {
  return fmix32(fmix32(seed ^ Math.imul(salt + 1, 0x9e3779b1)) ^ fmix32(n + 0x632be5ab));
}

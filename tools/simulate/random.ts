/**
 * Mixes a 32-bit integer into a well-spread one (a xorshift-multiply finaliser with constants from
 * Chris Wellons' hash search). Used both as the generator's output function and to derive seeds.
 */
export function hash32(input: number): number {
  let x = input >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x21f0aaad);
  x ^= x >>> 15;
  x = Math.imul(x, 0x735a2d97);
  x ^= x >>> 15;
  return x >>> 0;
}

/** One seed from several integers (a seed and a courier number, a city and a grid node, …). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) h = hash32(h ^ hash32(p + 0x632be5ab));
  return h;
}

/** A seed from a string, e.g. a city's name, so a city's streets do not depend on the run's seed. */
export function stringSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return hash32(h);
}

/** Uniform in [0, 1) from a seed alone: for values that must not depend on draw order. */
export function unit(seed: number): number {
  return hash32(seed) / 4294967296;
}

/**
 * A small seeded PRNG: a Weyl sequence (counter stepping by the golden ratio) through
 * {@link hash32}. One 32-bit word of state, so every courier can own one: a courier's draws then
 * never depend on how many other couriers there are or in what order they are stepped.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    return hash32(this.state) / 4294967296;
  }

  /** Uniform in [min, max). */
  range(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal (Box-Muller, one of the pair). */
  gauss(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Exponentially distributed with the given mean. */
  exp(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }
}

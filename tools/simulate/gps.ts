import type { z } from "zod";
import type { fixInputSchema } from "../../src/tracking/schemas";
import type { Courier } from "./fleet";
import type { Random } from "./random";
import type { Point, StreetGrid } from "./streets";

/** One fix exactly as `POST /v1/positions` takes it (the API's own input type), time in epoch ms. */
export type SimFix = z.input<typeof fixInputSchema> & { recorded_at: number };

/** How often the phone misbehaves. */
export interface GpsFaults {
  /** Signal losses (10–60 s without fixes) per courier per hour. */
  gapsPerHour: number;
  /** Share of fixes sent twice (the copy goes out with the courier's next fix). */
  duplicateRate: number;
  /** Share of fixes held back and sent after the courier's next fix. */
  reorderRate: number;
}

export const defaultFaults: GpsFaults = { gapsPerHour: 2, duplicateRate: 0.002, reorderRate: 0.002 };

/** What the receivers injected, fleet-wide. */
export interface FaultCounts {
  gaps: number;
  duplicates: number;
  reordered: number;
}

const ACCURACY_M = [3, 15] as const;
/** Spread of a phone's accuracy around its own typical value, m. */
const ACCURACY_SPREAD_M = 2.5;
/** GPS error wanders rather than jumps: it decorrelates over about this many seconds. */
const ERROR_TAU_S = 20;
/** Accuracy is the 68 % radius (as Android reports it); for a 2-D Gaussian that is 1.515 σ. */
const SIGMA_PER_ACCURACY = 1 / 1.515;
const GAP_S = [10, 60] as const;
/** Fixes a phone holds back at most (reordered or to be re-sent). */
const MAX_LATE = 4;

const round = (v: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

/**
 * A courier's phone: turns the true position into what the API receives. Gaussian error that
 * wanders over time (accuracy 3–15 m, reported as `accuracy_m`), speed and heading with a little
 * noise, and the faults of {@link GpsFaults}. Its own random stream, so changing the fault rates
 * never changes where couriers go.
 */
export class Receiver {
  private readonly base: number;
  private accuracy: number;
  private errX: number;
  private errY: number;
  private heading = 0;
  private gapLeft = 0;
  private lastState: string | undefined;
  private late: SimFix[] = [];
  private readonly point: Point = { x: 0, y: 0 };

  constructor(private readonly rng: Random) {
    this.base = rng.range(ACCURACY_M[0] + 1, 9);
    this.accuracy = this.base;
    this.errX = rng.gauss() * this.base * SIGMA_PER_ACCURACY;
    this.errY = rng.gauss() * this.base * SIGMA_PER_ACCURACY;
  }

  /**
   * The fixes this phone sends at `at` (epoch ms), `dt` seconds after its previous chance: none in
   * a signal loss or while offline (after one `offline` fix), else the current fix followed by any
   * held-back ones.
   */
  observe(
    c: Courier,
    grid: StreetGrid,
    at: number,
    dt: number,
    faults: GpsFaults,
    counts: FaultCounts,
    out: SimFix[],
  ): void {
    const rng = this.rng;
    const rho = Math.exp(-dt / ERROR_TAU_S);
    const fresh = Math.sqrt(1 - rho * rho);
    this.accuracy = this.base + (this.accuracy - this.base) * rho + rng.gauss() * ACCURACY_SPREAD_M * fresh;
    this.accuracy = Math.min(ACCURACY_M[1], Math.max(ACCURACY_M[0], this.accuracy));
    const sigma = this.accuracy * SIGMA_PER_ACCURACY;
    this.errX = this.errX * rho + rng.gauss() * sigma * fresh;
    this.errY = this.errY * rho + rng.gauss() * sigma * fresh;
    // Heading comes from movement: a phone at rest keeps reporting its last one.
    if (c.speed > 1) this.heading = (c.heading + rng.gauss() * 3 + 360) % 360;
    if (this.gapLeft > 0) {
      // In a signal loss; the first fix once it is over always goes out, so gaps never merge.
      this.gapLeft -= dt;
      if (this.gapLeft > 0) return;
    } else if (c.state !== "offline" && rng.chance(1 - Math.exp((-faults.gapsPerHour * dt) / 3600))) {
      counts.gaps += 1;
      this.gapLeft = rng.range(GAP_S[0], GAP_S[1]);
      return;
    }
    if (c.state === "offline" && this.lastState === "offline") return;
    this.point.x = c.x + this.errX;
    this.point.y = c.y + this.errY;
    const fix: SimFix = {
      courier_id: c.id,
      recorded_at: at,
      lat: round(grid.lat(this.point), 7),
      lon: round(grid.lon(this.point), 7),
      speed_mps: round(Math.max(0, c.speed + rng.gauss() * 0.15), 2),
      heading_deg: round(this.heading, 1) % 360,
      accuracy_m: round(this.accuracy, 1),
      state: c.state,
    };
    if (c.taskId !== undefined) fix.task_id = c.taskId;
    this.lastState = c.state;
    if (this.late.length < MAX_LATE && rng.chance(faults.reorderRate)) {
      // Held back, so it reaches the API after the courier's next fix.
      counts.reordered += 1;
      this.late.push(fix);
      return;
    }
    out.push(fix);
    for (const held of this.late) out.push(held);
    this.late.length = 0;
    if (rng.chance(faults.duplicateRate)) {
      // A retry by the phone: the same fix again, with the next one.
      counts.duplicates += 1;
      this.late.push(fix);
    }
  }

  /** Sends whatever is still held back (at the end of a run, so nothing is lost). */
  flush(out: SimFix[]): void {
    for (const held of this.late) out.push(held);
    this.late.length = 0;
  }
}

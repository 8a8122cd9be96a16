import { cityNamed } from "./cities";
import { Courier } from "./fleet";
import { defaultFaults, type FaultCounts, type GpsFaults, Receiver, type SimFix } from "./gps";
import { mixSeed, Random, unit } from "./random";
import { StreetGrid } from "./streets";
import { type VehicleKind, vehicles } from "./vehicles";

/** What to simulate. Everything but `startMs` has the CLI's defaults when driven from code too. */
export interface SimulateOptions {
  couriers: number;
  /** A key of `cities`. */
  city: string;
  /** Time between two fixes of a courier, ms. */
  rateMs: number;
  /** Simulated time, ms: `floor(durationMs / rateMs)` ticks. */
  durationMs: number;
  seed: number;
  /** Epoch ms the simulation starts at; a courier's first fix is within one `rateMs` after it. */
  startMs: number;
  /** Courier ids are this plus a zero-padded number: c-0001, c-0002, … */
  idPrefix?: string;
  /** Relative weights of the vehicles in the fleet (a vehicle left out has none); their `share` by default. */
  mix?: Partial<Record<VehicleKind, number>>;
  faults?: Partial<GpsFaults>;
}

/** Longest physics step, s: short enough for braking into an intersection to look right. */
const MAX_STEP_S = 1;

/** One fix interval: its end (epoch ms) and the fixes sent in it, in order. */
export interface Tick {
  /** 1-based. */
  index: number;
  at: number;
  fixes: SimFix[];
}

/**
 * A fleet of couriers in one city, advanced one fix interval at a time. Holds the couriers' current
 * state only: memory does not grow with simulated time. Courier `k` depends only on the seed and
 * `k`, so the first 100 couriers of a 500-courier run are those of a 100-courier run.
 */
export class Fleet {
  readonly grid: StreetGrid;
  readonly couriers: Courier[] = [];
  /** Faults injected so far. */
  readonly counts: FaultCounts = { gaps: 0, duplicates: 0, reordered: 0 };
  readonly totalTicks: number;
  private readonly receivers: Receiver[] = [];
  /** How long before the end of a tick each courier's phone takes its fix, ms: they are not in step. */
  private readonly phase: Int32Array;
  private readonly faults: GpsFaults;
  private readonly substeps: number;
  private index = 0;

  constructor(private readonly opts: SimulateOptions) {
    this.grid = new StreetGrid(cityNamed(opts.city));
    this.faults = { ...defaultFaults, ...opts.faults };
    this.totalTicks = Math.floor(opts.durationMs / opts.rateMs);
    this.substeps = Math.ceil(opts.rateMs / 1000 / MAX_STEP_S);
    this.phase = new Int32Array(opts.couriers);
    const kinds = Object.keys(vehicles) as VehicleKind[];
    const weight = (kind: VehicleKind) => (opts.mix ? (opts.mix[kind] ?? 0) : vehicles[kind].share);
    const mix = Object.fromEntries(kinds.map((kind) => [kind, weight(kind)])) as Record<VehicleKind, number>;
    const total = kinds.reduce((sum, kind) => sum + Math.max(0, mix[kind]), 0);
    if (!(total > 0)) throw new Error("the vehicle mix must give some vehicle a positive weight");
    const width = Math.max(4, String(opts.couriers).length);
    const prefix = opts.idPrefix ?? "c-";
    for (let k = 0; k < opts.couriers; k++) {
      const vehicle = pickVehicle(kinds, mix, unit(mixSeed(opts.seed, k, 3)) * total);
      const id = `${prefix}${String(k + 1).padStart(width, "0")}`;
      const taskPrefix = `t${opts.seed.toString(36)}-${k + 1}-`;
      this.couriers.push(
        new Courier(id, vehicle, taskPrefix, this.grid, new Random(mixSeed(opts.seed, k, 1))),
      );
      this.receivers.push(new Receiver(new Random(mixSeed(opts.seed, k, 2))));
      this.phase[k] = Math.floor(unit(mixSeed(opts.seed, k, 4)) * opts.rateMs);
    }
  }

  /** Ticks done so far. */
  get ticks(): number {
    return this.index;
  }

  get done(): boolean {
    return this.index >= this.totalTicks;
  }

  /** Epoch ms at the end of tick `index`. */
  timeOf(index: number): number {
    return this.opts.startMs + index * this.opts.rateMs;
  }

  /** Advances every courier by one fix interval; returns the fixes sent during it. */
  tick(): Tick {
    if (this.done) throw new Error("the simulation is over");
    this.index += 1;
    const at = this.timeOf(this.index);
    const rateS = this.opts.rateMs / 1000;
    const dt = rateS / this.substeps;
    const last = this.done;
    const fixes: SimFix[] = [];
    for (let k = 0; k < this.couriers.length; k++) {
      const courier = this.couriers[k] as Courier;
      const receiver = this.receivers[k] as Receiver;
      for (let s = 0; s < this.substeps; s++) courier.step(dt);
      receiver.observe(courier, this.grid, at - (this.phase[k] ?? 0), rateS, this.faults, this.counts, fixes);
      if (last) receiver.flush(fixes);
    }
    return { index: this.index, at, fixes };
  }
}

/** The vehicle whose share of the cumulative weights holds `draw` (in [0, total weight)). */
function pickVehicle(kinds: VehicleKind[], mix: Record<VehicleKind, number>, draw: number): VehicleKind {
  let left = draw;
  for (const kind of kinds) {
    left -= Math.max(0, mix[kind]);
    if (left < 0) return kind;
  }
  return kinds.at(-1) ?? "moto";
}

/**
 * The simulation as a stream of ticks, computed lazily: iterate it (`for` or `for await`) and
 * drop each tick when done with it.
 */
export function* simulate(opts: SimulateOptions): Generator<Tick> {
  const fleet = new Fleet(opts);
  while (!fleet.done) yield fleet.tick();
}

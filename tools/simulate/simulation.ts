import { cityNamed as knownCity } from "../lib/cities";
import { cityNamed } from "./cities";
import { Courier } from "./fleet";
import { defaultFaults, type FaultCounts, type GpsFaults, Receiver, type SimFix } from "./gps";
import { mixSeed, Random, stringSeed, unit } from "./random";
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
  /**
   * Ids as the old GPS generator numbered workers and tasks: courier `LON:12` (the city's code and
   * the worker's number), task ids the worker's job number ("1", "2", …); fixes on whole seconds.
   */
  gpsgenIds?: boolean;
  /** Every courier cruises at this speed, m/s (its vehicle's acceleration, braking and turns otherwise). */
  speedMps?: number;
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
    const code = cityCode(opts.city);
    for (let k = 0; k < opts.couriers; k++) {
      const vehicle = pickVehicle(kinds, mix, unit(mixSeed(opts.seed, k, 3)) * total);
      const id = opts.gpsgenIds ? `${code}:${k + 1}` : `${prefix}${String(k + 1).padStart(width, "0")}`;
      const taskPrefix = opts.gpsgenIds ? "" : `t${opts.seed.toString(36)}-${k + 1}-`;
      const rng = new Random(mixSeed(opts.seed, k, 1));
      this.couriers.push(new Courier(id, vehicle, taskPrefix, this.grid, rng, opts.speedMps));
      this.receivers.push(new Receiver(new Random(mixSeed(opts.seed, k, 2))));
      const phase = unit(mixSeed(opts.seed, k, 4)) * opts.rateMs;
      this.phase[k] = opts.gpsgenIds ? Math.floor(phase / 1000) * 1000 : Math.floor(phase);
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

const cityCode = (name: string) => knownCity(name).code;

/**
 * Fleets in several cities at once, advanced together: one {@link Fleet} per city, each with
 * `couriers` couriers. A single city is exactly that city's `Fleet`; with more, each city's fleet
 * gets a seed of its own (from the run's seed and the city's name) and, unless the ids are the old
 * generator's (which carry the city's code), the city's code in its ids: `c-LON-0001`.
 */
export class Fleets {
  readonly fleets: Fleet[];

  constructor(opts: SimulateOptions & { cities?: string[] }) {
    const cities = opts.cities ?? [opts.city];
    this.fleets = cities.map((city) =>
      cities.length === 1
        ? new Fleet({ ...opts, city })
        : new Fleet({
            ...opts,
            city,
            seed: mixSeed(opts.seed, stringSeed(city)),
            ...(opts.gpsgenIds ? {} : { idPrefix: `${opts.idPrefix ?? "c-"}${cityCode(city)}-` }),
          }),
    );
  }

  private get first(): Fleet {
    return this.fleets[0] as Fleet;
  }

  get ticks(): number {
    return this.first.ticks;
  }

  get totalTicks(): number {
    return this.first.totalTicks;
  }

  get done(): boolean {
    return this.first.done;
  }

  /** Faults injected so far, all cities together. */
  get counts(): FaultCounts {
    const total = { gaps: 0, duplicates: 0, reordered: 0 };
    for (const f of this.fleets) {
      total.gaps += f.counts.gaps;
      total.duplicates += f.counts.duplicates;
      total.reordered += f.counts.reordered;
    }
    return total;
  }

  timeOf(index: number): number {
    return this.first.timeOf(index);
  }

  /** One fix interval in every city; the fixes city by city, in the order the cities were given. */
  tick(): Tick {
    const ticks = this.fleets.map((f) => f.tick());
    const first = ticks[0] as Tick;
    return { index: first.index, at: first.at, fixes: ticks.flatMap((t) => t.fixes) };
  }
}

/**
 * The simulation as a stream of ticks, computed lazily: iterate it (`for` or `for await`) and
 * drop each tick when done with it.
 */
export function* simulate(opts: SimulateOptions & { cities?: string[] }): Generator<Tick> {
  const fleet = new Fleets(opts);
  while (!fleet.done) yield fleet.tick();
}

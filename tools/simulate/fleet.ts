import type { Random } from "./random";
import type { Leg, Node, StreetGrid } from "./streets";
import { type VehicleKind, type VehicleProfile, vehicles } from "./vehicles";

/** What a courier is doing, as the API's `state` field names it. */
export type CourierState = "free" | "to_pickup" | "to_dropoff" | "offline";

/** Time a courier stays free before the next job is offered, s: at least the minimum, 2 min on average. */
const FREE_MIN_S = 30;
const FREE_MEAN_S = 120;
/** Chance that a free courier takes a break (goes offline) instead of the next job. */
const BREAK_CHANCE = 0.03;
const BREAK_S = [600, 1800] as const;
const IDLE_S = [20, 120] as const;
/** Chance that a free courier rides around instead of waiting where it is. */
const WANDER_CHANCE = 0.4;
const WANDER_M = [200, 1000] as const;
const WANDER_SPEED = 0.6;
const PICKUP_M = [300, 2500] as const;
const DROPOFF_M = [500, 5000] as const;
const PICKUP_DWELL_S = [60, 300] as const;
const DROPOFF_DWELL_S = [60, 180] as const;
/** A red light or a crossing, s. */
const LIGHT_S = [5, 45] as const;

/**
 * One courier's true state: where it is on the street grid, how fast it goes, and where it is in
 * its delivery cycle (free → to_pickup → dwell → to_dropoff → dwell → free, with an occasional
 * break offline). Only the current route is kept, never a history.
 */
export class Courier {
  state: CourierState = "free";
  taskId: string | undefined;
  /** True position, metres east and north of the city centre. */
  x = 0;
  y = 0;
  /** True speed, m/s, and heading, degrees clockwise from north. */
  speed = 0;
  heading = 0;
  moving = false;
  /** Its own cruise speed, m/s: the fastest it ever goes. */
  readonly cruise: number;
  private jobs = 0;
  private readonly profile: VehicleProfile;
  private node: Node;
  private dropoff: Node | undefined;
  private jobIn: number;
  private wait = 0;
  /** Seconds it will stand at the light at the end of this edge. */
  private hold = 0;
  /** Seconds left standing at a light, mid-route. */
  private light = 0;
  private wander = false;
  private legs: Leg[] = [];
  private leg = 0;
  private steps = 0;
  private ax = 0;
  private ay = 0;
  private bx = 0;
  private by = 0;
  private edgeLen = 0;
  private along = 0;
  private endSpeed = 0;
  private edgeCruise = 0;
  private readonly point = { x: 0, y: 0 };

  constructor(
    readonly id: string,
    readonly vehicle: VehicleKind,
    /** Task ids are this plus the job's number. */
    private readonly taskPrefix: string,
    private readonly grid: StreetGrid,
    private readonly rng: Random,
    /** A cruise speed for every courier, m/s, instead of one drawn from the vehicle's range. */
    cruise?: number,
  ) {
    this.profile = vehicles[vehicle];
    // Drawn even when given, so the courier's later draws do not depend on it.
    const drawn = rng.range(this.profile.cruise[0], this.profile.cruise[1]);
    this.cruise = cruise ?? drawn;
    this.node = grid.randomNode(rng);
    grid.position(this.node.i, this.node.j, this);
    // Staggered, so the fleet does not take its first jobs in step.
    this.jobIn = this.freeFor();
  }

  /** Advances the courier by `dt` seconds. */
  step(dt: number): void {
    if (this.state === "free") this.jobIn -= dt;
    let t = dt;
    while (t > 1e-9) {
      if (this.light > 0) {
        const used = Math.min(t, this.light);
        this.light -= used;
        t -= used;
        if (this.light <= 1e-9) {
          this.light = 0;
          this.startEdge();
        }
      } else if (this.moving) {
        t = this.move(t);
      } else {
        const used = Math.min(t, this.wait);
        this.wait -= used;
        t -= used;
        if (this.wait <= 1e-9) this.decide();
      }
    }
  }

  /** At rest with nothing left to wait for: the next step of the cycle. Always waits or moves. */
  private decide(): void {
    if (this.state === "offline") {
      this.state = "free";
      this.jobIn = this.freeFor();
    } else if (this.state === "to_pickup") {
      this.state = "to_dropoff";
      this.startRoute(this.dropoff ?? this.node, false);
      return;
    } else if (this.state === "to_dropoff") {
      this.state = "free";
      this.taskId = undefined;
      this.jobIn = this.freeFor();
    }
    if (this.jobIn <= 0) {
      this.offerJob();
    } else if (this.rng.chance(WANDER_CHANCE)) {
      this.startRoute(this.grid.nodeNear(this.node, WANDER_M[0], WANDER_M[1], this.rng), true);
    } else {
      this.wait = Math.min(this.jobIn, this.rng.range(IDLE_S[0], IDLE_S[1])) + 1;
    }
  }

  private freeFor(): number {
    return FREE_MIN_S + this.rng.exp(FREE_MEAN_S - FREE_MIN_S);
  }

  private offerJob(): void {
    if (this.rng.chance(BREAK_CHANCE)) {
      this.state = "offline";
      this.wait = this.rng.range(BREAK_S[0], BREAK_S[1]);
      return;
    }
    this.jobs += 1;
    this.state = "to_pickup";
    this.taskId = `${this.taskPrefix}${this.jobs}`;
    const pickup = this.grid.nodeNear(this.node, PICKUP_M[0], PICKUP_M[1], this.rng);
    this.dropoff = this.grid.nodeNear(pickup, DROPOFF_M[0], DROPOFF_M[1], this.rng);
    this.startRoute(pickup, false);
  }

  private startRoute(to: Node, wander: boolean): void {
    this.legs = this.grid.route(this.node, to, this.rng);
    this.wander = wander;
    this.leg = 0;
    this.steps = this.legs[0]?.n ?? 0;
    if (this.steps === 0) {
      this.arrive();
      return;
    }
    this.moving = true;
    this.startEdge();
  }

  private startEdge(): void {
    const leg = this.legs[this.leg] as Leg;
    const next = { i: this.node.i + leg.di, j: this.node.j + leg.dj };
    this.grid.position(this.node.i, this.node.j, this.point);
    this.ax = this.point.x;
    this.ay = this.point.y;
    this.grid.position(next.i, next.j, this.point);
    this.bx = this.point.x;
    this.by = this.point.y;
    this.edgeLen = Math.hypot(this.bx - this.ax, this.by - this.ay);
    this.along = 0;
    this.heading = ((Math.atan2(this.bx - this.ax, this.by - this.ay) * 180) / Math.PI + 360) % 360;
    const fromCentre = Math.hypot(this.ax, this.ay) / (0.6 * this.grid.city.extentKm * 1000);
    const centre = this.profile.centreFactor + (1 - this.profile.centreFactor) * Math.min(1, fromCentre);
    this.edgeCruise = this.cruise * centre * (this.wander ? WANDER_SPEED : 1);
    const last = this.steps === 1 && this.leg === this.legs.length - 1;
    this.hold =
      !last && this.rng.chance(this.profile.stopChance) ? this.rng.range(LIGHT_S[0], LIGHT_S[1]) : 0;
    if (last || this.hold > 0) this.endSpeed = 0;
    else this.endSpeed = this.steps === 1 ? Math.min(this.profile.turn, this.edgeCruise) : this.edgeCruise;
    this.node = next;
  }

  /**
   * Moves along the current edge for up to `t` seconds; returns the time left over. Accelerates
   * towards cruise speed until it meets the braking curve (the speed from which braking at `decel`
   * ends at the node's speed), then follows that curve exactly, so braking is never harder than the
   * vehicle's.
   */
  private move(t: number): number {
    const { accel, decel } = this.profile;
    const remaining = this.edgeLen - this.along;
    const brake = Math.sqrt(this.endSpeed * this.endSpeed + 2 * decel * remaining);
    if (brake < this.edgeCruise + 1e-9 && this.speed + accel * t >= brake - 1e-9) {
      const toNode = (brake - this.endSpeed) / decel;
      if (toNode > t) {
        this.speed = brake - decel * t;
        this.advance(brake * t - (decel * t * t) / 2);
        return 0;
      }
      this.speed = this.endSpeed;
      this.reachNode();
      return t - toNode;
    }
    const v1 = Math.min(this.edgeCruise, this.speed + accel * t);
    const mean = (this.speed + v1) / 2;
    this.speed = v1;
    // Where braking from v1 has to start; the next call brakes from there.
    const free = remaining - (v1 * v1 - this.endSpeed * this.endSpeed) / (2 * decel);
    if (mean * t < free) {
      this.advance(mean * t);
      return 0;
    }
    if (free < remaining) {
      this.advance(free);
      return t - free / mean;
    }
    this.reachNode();
    return t - remaining / mean;
  }

  private advance(ds: number): void {
    this.along += ds;
    const f = this.along / this.edgeLen;
    this.x = this.ax + (this.bx - this.ax) * f;
    this.y = this.ay + (this.by - this.ay) * f;
  }

  private reachNode(): void {
    this.x = this.bx;
    this.y = this.by;
    if (this.endSpeed === 0) this.speed = 0;
    this.atNode();
  }

  /** Reached the end of an edge: the next edge, a red light first, or the destination. */
  private atNode(): void {
    this.steps -= 1;
    if (this.steps === 0) {
      this.leg += 1;
      const leg = this.legs[this.leg];
      if (!leg) {
        this.arrive();
        return;
      }
      this.steps = leg.n;
    }
    if (this.hold > 0) {
      // Stands at the light, still on its route; step() resumes with the next edge.
      this.speed = 0;
      this.light = this.hold;
      this.hold = 0;
      return;
    }
    this.startEdge();
  }

  private arrive(): void {
    this.moving = false;
    this.speed = 0;
    this.legs = [];
    if (this.state === "to_pickup") this.wait = this.rng.range(PICKUP_DWELL_S[0], PICKUP_DWELL_S[1]);
    else if (this.state === "to_dropoff") this.wait = this.rng.range(DROPOFF_DWELL_S[0], DROPOFF_DWELL_S[1]);
    else this.wait = 1;
  }
}

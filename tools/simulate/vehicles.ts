/** How a vehicle moves: cruise speed range (m/s), acceleration and braking (m/s²), turns, lights. */
export interface VehicleProfile {
  cruise: readonly [number, number];
  accel: number;
  decel: number;
  /** Speed through a turn, m/s. */
  turn: number;
  /** Chance of stopping at an intersection it passes through (a red light, a crossing). */
  stopChance: number;
  /** Cruise speed at the centre as a share of the outskirts' (congestion); 1 for none. */
  centreFactor: number;
  /** Default weight in the fleet (mostly motorbikes, as in most delivery fleets). */
  share: number;
}

/** Vehicles by name; add a line to add one (and give it a weight with --mix). */
export const vehicles = {
  bike: { cruise: [4, 6], accel: 0.8, decel: 1.5, turn: 3, stopChance: 0.06, centreFactor: 1, share: 35 },
  moto: {
    cruise: [8, 12],
    accel: 2.2,
    decel: 3.5,
    turn: 4.5,
    stopChance: 0.12,
    centreFactor: 0.9,
    share: 50,
  },
  car: { cruise: [9, 13], accel: 1.8, decel: 3, turn: 4, stopChance: 0.15, centreFactor: 0.45, share: 15 },
} as const satisfies Record<string, VehicleProfile>;

export type VehicleKind = keyof typeof vehicles;

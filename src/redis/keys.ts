/** Every Redis key geoedge uses is built here, so names never drift between writers and readers. */
export const redisKeys = {
  /** GEO set of live couriers: member = courier id. */
  liveCouriers: () => "geo:couriers:live",
  /** Sorted set of live couriers by last-seen epoch milliseconds, used for stale cleanup. */
  courierLastSeen: () => "couriers:last-seen",
  /** Hash of one courier's live state. */
  courierState: (courierId: string) => `courier:${courierId}:state`,
  /** GEO set of profiles: member = profile id. */
  profiles: () => "geo:profiles",
} as const;

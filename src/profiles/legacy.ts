import type { Db } from "../db/client";
import { AppError } from "../errors";
import type { Redis } from "../redis/client";
import { REDIS_MAX_LAT } from "../tracking/schemas";
import { nearbyPostgisStored, storedProfiles } from "./repo";
import type { Engine } from "./schemas";
import { nearby } from "./service";

/**
 * The fields the old distance service returned besides `uuid`, `name`, `latitude` and `longitude`,
 * read from a profile's stored `attributes` (`npm run load:profiles -- --fields legacy` writes them).
 */
export const LEGACY_FIELDS = [
  "occupation",
  "company_email",
  "credit_card_provider",
  "phone_number",
  "date_of_birth",
  "city",
  "tz",
] as const;

export type LegacyField = (typeof LEGACY_FIELDS)[number];

/** Metres per unit of the old routes: the Redis route took m, km, mi and ft, the PostGIS one km and mt. */
export const LEGACY_UNITS = { m: 1, mt: 1, km: 1000, mi: 1609.344, ft: 0.3048 } as const;

export type LegacyUnit = keyof typeof LEGACY_UNITS;

/**
 * Half the Earth's circumference on the larger of the two engines' spheres (Redis's radius,
 * 6,372,797.56 m): no two points are farther apart, so a larger radius finds exactly what this one
 * does. The old service had no cap, and its demo radius (100 km) is twice the /v1 route's.
 */
export const WHOLE_EARTH_M = Math.ceil(Math.PI * 6_372_797.56);

/** Largest answer of the old routes, as the old service gave. */
export const LEGACY_LIMIT = 100;

/** One profile as the old service returned it; `distance` (integer metres) on the PostGIS route only. */
export type LegacyProfile = {
  uuid: string;
  name: string;
  latitude: number;
  longitude: number;
  distance?: number;
} & Record<LegacyField, unknown>;

function toLegacy(row: {
  id: string;
  name: string;
  attributes: Record<string, unknown>;
  lat: number;
  lon: number;
}): LegacyProfile {
  const fields = Object.fromEntries(LEGACY_FIELDS.map((f) => [f, row.attributes[f] ?? null]));
  return {
    uuid: row.id,
    name: row.name,
    ...(fields as Record<LegacyField, unknown>),
    latitude: row.lat,
    longitude: row.lon,
  };
}

/**
 * The old service's nearby answer: up to `limit` live profiles nearest first, with the old fields.
 * The Redis engine finds the ids and Postgres supplies the fields in a second query by primary
 * key (the index holds positions only); an id the index still has but Postgres no longer does is
 * left out. The PostGIS engine does both in one statement and adds the distance in whole metres.
 */
export async function legacyNearby(
  deps: { db: Db; redis: Redis },
  q: { lat: number; lon: number; radiusM: number; limit: number; engine: Engine },
): Promise<LegacyProfile[]> {
  const radiusM = Math.min(q.radiusM, WHOLE_EARTH_M);
  if (q.engine === "postgis") {
    const rows = await nearbyPostgisStored(deps.db, { ...q, radiusM });
    return rows.map((r) => ({ ...toLegacy(r), distance: Math.round(r.distance_m) }));
  }
  if (Math.abs(q.lat) > REDIS_MAX_LAT) {
    throw new AppError("validation_failed", `lat: the Redis route cannot search beyond ±${REDIS_MAX_LAT}`, [
      {
        field: "param.lat",
        rule: "redis_lat_limit",
        message: `must be within ±${REDIS_MAX_LAT} on the Redis route (Redis GEO's limit); use /postgis_profiles`,
      },
    ]);
  }
  const { hits } = await nearby(deps, { ...q, radiusM, engine: "redis" });
  const stored = new Map(
    (
      await storedProfiles(
        deps.db,
        hits.map((h) => h.id),
      )
    ).map((r) => [r.id, r]),
  );
  return hits.flatMap((h) => {
    const row = stored.get(h.id);
    return row ? [toLegacy(row)] : [];
  });
}

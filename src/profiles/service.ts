import type { Db } from "../db/client";
import { AppError } from "../errors";
import { errorFields, type Logger } from "../log";
import type { Redis } from "../redis/client";
import { redisKeys } from "../redis/keys";
import { REDIS_MAX_LAT } from "../tracking/schemas";
import { indexProfiles, nearbyRedis, unindexProfiles } from "./geo-index";
import { nearbyPostgis, patchProfile, tombstoneProfile, upsertProfiles } from "./repo";
import type { Engine, NearbyHit, Profile, ProfileInput, ProfilePatch } from "./schemas";

/** What the profile capability needs from its caller. */
export interface ProfileDeps {
  db: Db;
  redis: Redis;
  log: Logger;
}

/**
 * Stores profiles in Postgres (the source of truth), then writes them through to the Redis index so
 * nearby search sees them at once. A failed write-through is only logged: the sync cron applies
 * every change since its watermark, so Redis catches up without the client retrying.
 */
export async function saveProfiles(deps: ProfileDeps, inputs: ProfileInput[]): Promise<Profile[]> {
  const stored = await upsertProfiles(deps.db, inputs);
  await writeThrough(deps, stored);
  return stored;
}

/** Changes some fields of a live profile and re-indexes it; undefined when there is none. */
export async function updateProfile(
  deps: ProfileDeps,
  id: string,
  patch: ProfilePatch,
): Promise<Profile | undefined> {
  const updated = await patchProfile(deps.db, id, patch);
  if (updated) await writeThrough(deps, [updated]);
  return updated;
}

async function writeThrough(deps: ProfileDeps, stored: Profile[]): Promise<void> {
  try {
    await indexProfiles(deps.redis, redisKeys.profiles(), stored);
  } catch (error) {
    deps.log.warn("profile write-through to Redis failed; the sync will apply it", {
      profiles: stored.length,
      ...errorFields(error),
    });
  }
}

/** Tombstones a profile and takes it out of the Redis index (the sync repeats that if Redis is down). */
export async function deleteProfile(deps: ProfileDeps, id: string): Promise<boolean> {
  const removed = await tombstoneProfile(deps.db, id);
  if (!removed) return false;
  try {
    await unindexProfiles(deps.redis, redisKeys.profiles(), [id]);
  } catch (error) {
    deps.log.warn("profile removal from Redis failed; the sync will apply it", { id, ...errorFields(error) });
  }
  return true;
}

/** A nearby answer and how the engine got it. */
export interface NearbyAnswer {
  engine: Engine;
  hits: NearbyHit[];
  /** Redis only: the radius the adaptive search needed, and in how many rounds. */
  searchedRadiusM?: number;
  rounds?: number;
}

/** The `limit` nearest live profiles within `radiusM` of a point, from the chosen engine. */
export async function nearby(
  deps: Pick<ProfileDeps, "db" | "redis">,
  q: { lat: number; lon: number; radiusM: number; limit: number; engine: Engine },
): Promise<NearbyAnswer> {
  if (q.engine === "postgis") return { engine: "postgis", hits: await nearbyPostgis(deps.db, q) };
  if (Math.abs(q.lat) > REDIS_MAX_LAT) {
    throw new AppError("validation_failed", `lat: the redis engine cannot search beyond ±${REDIS_MAX_LAT}`, [
      {
        field: "query.lat",
        rule: "redis_lat_limit",
        message: `must be within ±${REDIS_MAX_LAT} for engine=redis (Redis GEO's limit); use engine=postgis`,
      },
    ]);
  }
  const result = await nearbyRedis(deps.redis, redisKeys.profiles(), q);
  return {
    engine: "redis",
    hits: result.hits,
    searchedRadiusM: result.searchedRadiusM,
    rounds: result.rounds,
  };
}

import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import type { NearbyHit, Profile, ProfileInput, ProfilePatch } from "./schemas";

interface ProfileRow extends Record<string, unknown> {
  id: string;
  name: string;
  kind: string;
  lat: number;
  lon: number;
  attributes: Record<string, unknown>;
  updated_at: string;
}

const columns = sql`id, name, kind, ST_Y(location::geometry) AS lat, ST_X(location::geometry) AS lon, attributes,
  to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS updated_at`;

function toProfile(row: ProfileRow): Profile {
  return { ...row, lat: Number(row.lat), lon: Number(row.lon) };
}

/**
 * Inserts or replaces profiles by id in one statement (arrays unnested server-side, so the
 * statement has a fixed number of parameters whatever the batch size). A tombstoned id comes back
 * to life. Returns the stored profiles.
 */
export async function upsertProfiles(db: Db, inputs: ProfileInput[]): Promise<Profile[]> {
  if (inputs.length === 0) return [];
  const result = await db.execute<ProfileRow>(sql`
    INSERT INTO profiles (id, name, kind, attributes, location, updated_at, deleted_at)
    SELECT u.id, u.name, u.kind, u.attributes::jsonb,
           ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326)::geography, now(), NULL
    FROM unnest(${sql.param(inputs.map((p) => p.id))}::text[], ${sql.param(inputs.map((p) => p.name))}::text[],
                ${sql.param(inputs.map((p) => p.kind))}::text[],
                ${sql.param(inputs.map((p) => JSON.stringify(p.attributes)))}::text[],
                ${sql.param(inputs.map((p) => p.lon))}::float8[], ${sql.param(inputs.map((p) => p.lat))}::float8[])
         AS u(id, name, kind, attributes, lon, lat)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, attributes = excluded.attributes,
      location = excluded.location, updated_at = excluded.updated_at, deleted_at = NULL
    RETURNING ${columns}`);
  return result.rows.map(toProfile);
}

/** A live (not tombstoned) profile, or undefined. */
export async function getProfile(db: Db, id: string): Promise<Profile | undefined> {
  const result = await db.execute<ProfileRow>(
    sql`SELECT ${columns} FROM profiles WHERE id = ${id} AND deleted_at IS NULL`,
  );
  const row = result.rows[0];
  return row ? toProfile(row) : undefined;
}

/** Applies a partial update to a live profile; undefined when there is none. */
export async function patchProfile(db: Db, id: string, patch: ProfilePatch): Promise<Profile | undefined> {
  const moved = patch.lat !== undefined && patch.lon !== undefined;
  const result = await db.execute<ProfileRow>(sql`
    UPDATE profiles SET
      name = coalesce(${patch.name ?? null}::text, name),
      kind = coalesce(${patch.kind ?? null}::text, kind),
      attributes = coalesce(${patch.attributes ? JSON.stringify(patch.attributes) : null}::jsonb, attributes),
      location = CASE WHEN ${moved} THEN ST_SetSRID(ST_MakePoint(${patch.lon ?? 0}, ${patch.lat ?? 0}), 4326)::geography
                      ELSE location END,
      updated_at = now()
    WHERE id = ${id} AND deleted_at IS NULL
    RETURNING ${columns}`);
  const row = result.rows[0];
  return row ? toProfile(row) : undefined;
}

/** Tombstones a live profile (the sync removes it from Redis too); false when there was none. */
export async function tombstoneProfile(db: Db, id: string): Promise<boolean> {
  const result = await db.execute(
    sql`UPDATE profiles SET deleted_at = now(), updated_at = now() WHERE id = ${id} AND deleted_at IS NULL RETURNING id`,
  );
  return result.rows.length > 0;
}

/**
 * The k nearest live profiles within `radiusM`, nearest first, through the `nearby_profiles`
 * function (migrations/0005): great-circle distances on the sphere (`use_spheroid = false`), the
 * same model Redis GEO uses, so both engines order alike; the KNN operator `<->` walks the GiST
 * index, so only `limit` rows are read; and the function keeps its plan per connection.
 */
export async function nearbyPostgis(
  db: Db,
  q: { lat: number; lon: number; radiusM: number; limit: number },
): Promise<NearbyHit[]> {
  const result = await db.execute<{ id: string; distance_m: number; lat: number; lon: number }>(
    sql`SELECT id, distance_m, lat, lon FROM nearby_profiles(${q.lat}, ${q.lon}, ${q.radiusM}, ${q.limit})`,
  );
  return result.rows.map((r) => ({
    id: r.id,
    distance_m: Number(r.distance_m),
    lat: Number(r.lat),
    lon: Number(r.lon),
  }));
}

/** The stored fields of a profile that the old distance service's answers need. */
export interface StoredProfile {
  id: string;
  name: string;
  attributes: Record<string, unknown>;
  lat: number;
  lon: number;
}

/** The live profiles among `ids` (in no particular order; missing and tombstoned ids are left out). */
export async function storedProfiles(db: Db, ids: string[]): Promise<StoredProfile[]> {
  if (ids.length === 0) return [];
  const result = await db.execute<StoredProfile & Record<string, unknown>>(sql`
    SELECT id, name, attributes, ST_Y(location::geometry) AS lat, ST_X(location::geometry) AS lon
    FROM profiles WHERE id = ANY(${sql.param(ids)}::text[]) AND deleted_at IS NULL`);
  return result.rows.map((r) => ({ ...r, lat: Number(r.lat), lon: Number(r.lon) }));
}

/**
 * {@link nearbyPostgis} with each profile's stored fields, nearest first, in one statement: the
 * function's rows are joined back to the table by primary key in the order the function gave them.
 */
export async function nearbyPostgisStored(
  db: Db,
  q: { lat: number; lon: number; radiusM: number; limit: number },
): Promise<(StoredProfile & { distance_m: number })[]> {
  const result = await db.execute<StoredProfile & { distance_m: number } & Record<string, unknown>>(sql`
    SELECT n.id, n.distance_m, p.name, p.attributes, n.lat, n.lon
    FROM nearby_profiles(${q.lat}, ${q.lon}, ${q.radiusM}, ${q.limit}) WITH ORDINALITY AS n(id, distance_m, lat, lon, ord)
    JOIN profiles p ON p.id = n.id
    ORDER BY n.ord`);
  return result.rows.map((r) => ({
    ...r,
    distance_m: Number(r.distance_m),
    lat: Number(r.lat),
    lon: Number(r.lon),
  }));
}

/** Live profiles after `afterId` in id order: the pages of a full rebuild. */
export async function livePage(
  db: Db,
  afterId: string,
  limit: number,
): Promise<{ id: string; lat: number; lon: number }[]> {
  const result = await db.execute<{ id: string; lat: number; lon: number }>(sql`
    SELECT id, ST_Y(location::geometry) AS lat, ST_X(location::geometry) AS lon
    FROM profiles WHERE deleted_at IS NULL AND id > ${afterId}
    ORDER BY id LIMIT ${limit}`);
  return result.rows.map((r) => ({ id: r.id, lat: Number(r.lat), lon: Number(r.lon) }));
}

/** Live and tombstoned profile counts, and the newest change (a SQL deletion included). */
export async function profileCounts(
  db: Db,
): Promise<{ live: number; tombstoned: number; newestChangeAt: number | null }> {
  const result = await db.execute<{ live: string; dead: string; newest: string | null }>(sql`
    SELECT count(*) FILTER (WHERE deleted_at IS NULL)::text AS live,
           count(*) FILTER (WHERE deleted_at IS NOT NULL)::text AS dead,
           (extract(epoch FROM greatest(max(updated_at), (SELECT max(deleted_at) FROM profile_deletions))) * 1000)::bigint::text AS newest
    FROM profiles`);
  const row = result.rows[0];
  return {
    live: Number(row?.live ?? 0),
    tombstoned: Number(row?.dead ?? 0),
    newestChangeAt: row?.newest ? Number(row.newest) : null,
  };
}

import { randomBytes, randomInt } from "node:crypto";
import type { Pool } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haversineM } from "../../src/profiles/tolerance.ts";
import { generateProfiles, loadProfiles, type ProfileChunk } from "../../tools/load/profiles.ts";
import { neonPool } from "../../tools/load/write.ts";
import { RespClient } from "../../tools/stack/resp.ts";
import { ensureStack, type StackHandle } from "../../tools/stack/stack.ts";

// A seed no other run uses: ids are p-<seed>-<n>, so this run's rows are exactly that prefix.
const seed = randomInt(1_000_000, 2_000_000_000);
const key = `test:loader:${randomBytes(6).toString("hex")}`;
const count = 2_000;

let stack: StackHandle;
let pool: Pool;
let redis: RespClient;

/** Every row of a load, as one chunk (small counts only). */
function all(opts: { count: number; seed: number; city?: string; start?: number }): ProfileChunk {
  const chunks = [...generateProfiles({ city: "madrid", chunkSize: 700, ...opts })];
  return {
    start: chunks[0]?.start ?? 0,
    ids: chunks.flatMap((c) => c.ids),
    names: chunks.flatMap((c) => c.names),
    kinds: chunks.flatMap((c) => c.kinds),
    attributes: chunks.flatMap((c) => c.attributes),
    lat: Float64Array.from(chunks.flatMap((c) => [...c.lat])),
    lon: Float64Array.from(chunks.flatMap((c) => [...c.lon])),
  };
}

beforeAll(async () => {
  stack = await ensureStack();
  pool = neonPool(stack.postgres.url("geoedge_test"), stack.proxy, 2);
  redis = await RespClient.connect(stack.redis("geoedge_test"));
});

afterAll(async () => {
  await pool?.query("DELETE FROM profiles WHERE id LIKE $1", [`p-${seed}-%`]);
  await redis?.send(["DEL", key]);
  await redis?.close();
  await pool?.end();
  await stack?.stop();
});

describe("profile loader", () => {
  it("generates the same rows for the same seed, other rows for another, whatever the chunking", () => {
    const a = all({ count, seed });
    expect(all({ count, seed })).toEqual(a);
    expect(a.ids[0]).toBe(`p-${seed}-0`);
    expect(new Set(a.ids).size).toBe(count);
    // A range generated alone equals the same rows of the whole load.
    const tail = all({ count: 500, seed, start: 1500 });
    expect(tail.ids).toEqual(a.ids.slice(1500));
    expect([...tail.lat]).toEqual([...a.lat.slice(1500)]);

    const b = all({ count, seed: seed + 1 });
    const samePlace = a.lat.filter((lat, i) => lat === b.lat[i] && a.lon[i] === b.lon[i]).length;
    expect(samePlace).toBe(0);
    expect(b.names).not.toEqual(a.names);

    // Plausible city data: every kind shows up and rows gather around Madrid (the Gaussian
    // neighbourhoods have tails, so only a loose outer bound holds for any seed).
    expect(new Set(a.kinds)).toEqual(
      new Set(["store", "restaurant", "person", "driver", "cafe", "pharmacy", "warehouse"]),
    );
    const km = Array.from(a.lat, (lat, i) => haversineM(40.4168, -3.7038, lat, a.lon[i] as number) / 1000);
    km.sort((x, y) => x - y);
    expect(km[count / 2]).toBeLessThan(36);
    expect(km[count - 1]).toBeLessThan(200);
    expect(typeof JSON.parse(a.attributes[0] as string)).toBe("object");
  });

  it("writes the rows to Postgres and the same members to the Redis key, idempotently", async () => {
    const opts = {
      count,
      seed,
      databaseUrl: stack.postgres.url("geoedge_test"),
      localProxy: stack.proxy,
      redis: { ...stack.redis("geoedge_test"), key },
      chunkSize: 500,
    };
    const summary = await loadProfiles(opts);
    expect(summary).toMatchObject({ rows: count, redisKey: key });
    // Loading again upserts the same ids instead of adding rows.
    await loadProfiles(opts);

    const expected = all({ count, seed });
    const { rows } = await pool.query<{ id: string; name: string; kind: string; lat: number; lon: number }>(
      `SELECT id, name, kind, ST_Y(location::geometry) AS lat, ST_X(location::geometry) AS lon
       FROM profiles WHERE id LIKE $1 AND deleted_at IS NULL`,
      [`p-${seed}-%`],
    );
    expect(rows).toHaveLength(count);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const i of [0, 1, 777, count - 1]) {
      expect(byId.get(expected.ids[i] as string)).toEqual({
        id: expected.ids[i],
        name: expected.names[i],
        kind: expected.kinds[i],
        lat: expected.lat[i],
        lon: expected.lon[i],
      });
    }

    expect(await redis.send(["ZCARD", key])).toBe(count);
    const members = (await redis.send(["ZRANGE", key, 0, -1])) as Buffer[];
    expect(members.map(String).sort()).toEqual([...expected.ids].sort());
    const [pos] = (await redis.send(["GEOPOS", key, expected.ids[777] as string])) as Buffer[][];
    // Redis keeps 52-bit geohashes: within about a metre of what was written.
    expect(Number(pos?.[0])).toBeCloseTo(expected.lon[777] as number, 5);
    expect(Number(pos?.[1])).toBeCloseTo(expected.lat[777] as number, 5);
  });

  it("can rewrite the table in the order of its location index, so neighbours share pages", async () => {
    const summary = await loadProfiles({
      count,
      seed,
      databaseUrl: stack.postgres.url("geoedge_test"),
      localProxy: stack.proxy,
      chunkSize: 500,
      cluster: true,
    });
    expect(summary.clusterSeconds).toBeGreaterThan(0);
    const { rows: flags } = await pool.query<{ clustered: boolean }>(
      `SELECT indisclustered AS clustered FROM pg_index WHERE indexrelid = 'profiles_location_gist'::regclass`,
    );
    expect(flags[0]?.clustered).toBe(true);
    // The 20 nearest of this load's rows around its first row: written in random order they would
    // sit on 15-20 heap pages (18 in a trial); clustered, on 2-5.
    const expected = all({ count, seed });
    const { rows } = await pool.query<{ page: string }>(
      `SELECT (ctid::text::point)[0]::text AS page FROM profiles
       WHERE id LIKE $1 ORDER BY location <-> ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography LIMIT 20`,
      [`p-${seed}-%`, expected.lon[0], expected.lat[0]],
    );
    expect(rows).toHaveLength(20);
    expect(new Set(rows.map((r) => r.page)).size).toBeLessThanOrEqual(8);
  });
});

import { spawnSync } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { join } from "node:path";
import type { Pool } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { LEGACY_FIELDS } from "../../src/profiles/legacy.ts";
import { haversineM } from "../../src/profiles/tolerance.ts";
import { ensureBenchDatabase } from "../../tools/bench/lib/bench-pg.ts";
import { cities } from "../../tools/lib/cities.ts";
import {
  generateProfiles,
  legacyProfileId,
  loadProfiles,
  type ProfileChunk,
  parseLoaderArgs,
  stackIndex,
} from "../../tools/load/profiles.ts";
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
const root = join(import.meta.dirname, "../..");
const tsx = join(root, "node_modules/.bin/tsx");
const loader = join(root, "tools/load/profiles.ts");

function all(opts: {
  count: number;
  seed: number;
  city?: string;
  start?: number;
  spread?: "city" | "world";
  fields?: "standard" | "legacy";
}): ProfileChunk {
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
      redis: stackIndex(stack, "geoedge_test", key),
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
    // A database of its own: other test files' rows, written meanwhile into the shared one, would
    // sit between this load's rows after the rewrite.
    const url = await ensureBenchDatabase(stack, "geoedge_test_cluster");
    const summary = await loadProfiles({
      count,
      seed,
      databaseUrl: url,
      localProxy: stack.proxy,
      chunkSize: 500,
      truncate: true,
      cluster: true,
    });
    const pool = neonPool(url, stack.proxy, 1);
    onTestFinished(() => pool.end());
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

  it("writes the old distance service's people over every city, the old demo point's area included", () => {
    const rows = all({ count: 30_000, seed, spread: "world", fields: "legacy" });
    expect(all({ count: 30_000, seed, spread: "world", fields: "legacy" })).toEqual(rows);
    expect(new Set(rows.kinds)).toEqual(new Set(["person"]));
    // The old service's clients read the id as `uuid`: a UUID, the same for the same seed and row.
    expect(rows.ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(rows.ids).size).toBe(30_000);
    expect(legacyProfileId(seed, 5)).toBe(rows.ids[5]);
    const byName = new Map(Object.values(cities).map((c) => [c.name, c]));
    const seen = new Set<string>();
    let nearDemo = 0;
    rows.attributes.forEach((text, i) => {
      const a = JSON.parse(text) as Record<string, string>;
      expect(Object.keys(a)).toEqual([...LEGACY_FIELDS]);
      const city = byName.get(a.city ?? "");
      expect(city, a.city).toBeDefined();
      expect(a.tz).toBe(city?.tz);
      expect(a.phone_number?.startsWith(`${city?.callingCode} `)).toBe(true);
      expect(a.date_of_birth).toMatch(/^(19[5-9]\d|200[0-5])-\d\d-\d\d$/);
      expect(a.company_email).toMatch(/^[a-z]+\.[a-z]+@[a-z]+\.[a-z]+$/);
      // Each row lies in its own city's area.
      const km =
        haversineM(city?.lat ?? 0, city?.lon ?? 0, rows.lat[i] as number, rows.lon[i] as number) / 1000;
      expect(km).toBeLessThan(6 * (city?.radiusKm ?? 0));
      seen.add(a.city ?? "");
      if (haversineM(33.7207, -116.21677, rows.lat[i] as number, rows.lon[i] as number) < 100_000) nearDemo++;
    });
    expect(seen.size).toBe(Object.keys(cities).length);
    // Indio is the smallest city, yet at 30,000 rows a demo search (100 km) fills its 100 results.
    expect(nearDemo).toBeGreaterThan(100);
    // Worldwide standard rows differ from legacy ones in their fields only, not their places.
    const standard = all({ count: 100, seed, spread: "world" });
    expect([...standard.lat]).toEqual([...rows.lat.slice(0, 100)]);
    expect(standard.ids[0]).toBe(`p-${seed}-0`);
  });

  it("checks its command line: one line naming the flag and the rule, --help prints help only", async () => {
    const cases: [string[], RegExp][] = [
      [["--count", "10", "--chunk", "0"], /argument --chunk: must be an integer from 1 to 100000/],
      [["--count", "10k"], /argument --count: must be an integer from 1 to 100000000/],
      [["--count", "0"], /argument --count: must be an integer from 1/],
      [["--chunk", "500"], /the following arguments are required: --count/],
      [["--count", "10", "--spread", "mars"], /argument --spread: must be one of city, world/],
      [["--count", "10", "--fields", "old"], /argument --fields: must be one of standard, legacy/],
      [["--count", "10", "--city", "atlantis"], /argument --city: must be one of madrid, london/],
      [
        ["--count", "10", "--spread", "world", "--city", "madrid"],
        /argument --city: not with --spread world/,
      ],
      [["--count", "10", "--seed", "-1"], /argument --seed: must be an integer from 0/],
      [["--count", "10", "--database", "Geo;drop"], /argument --database: must be a plain database name/],
    ];
    for (const [argv, message] of cases) {
      expect(() => parseLoaderArgs(argv, true), argv.join(" ")).toThrow(message);
    }
    expect(parseLoaderArgs(["--count", "5", "--spread", "world", "--fields", "legacy"], true)).toEqual({
      count: 5,
      seed: 42,
      city: "madrid",
      spread: "world",
      fields: "legacy",
      redis: false,
      truncate: false,
      chunk: 10_000,
    });

    // As a process: exit 2 with the one line (this used to hang), and --help touches nothing (a
    // database it would try to reach does not exist).
    const env = { ...process.env, DATABASE_URL: "postgres://nobody@db.invalid:5432/none" };
    const bad = spawnSync(tsx, [loader, "--count", "10", "--chunk", "0"], { env, encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr.trim().split("\n")).toEqual([
      "load:profiles: argument --chunk: must be an integer from 1 to 100000 (see --help)",
    ]);
    const help = spawnSync(tsx, [loader, "--help"], { env, encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: load:profiles/);
    expect(help.stdout).toContain("--spread");
    expect(help.stderr).toBe("");
  });
});

import { execFileSync } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type DbHandle } from "../../src/db/client.ts";
import { haversineM } from "../../src/profiles/tolerance.ts";
import type { TripRow } from "../../src/trips/rows.ts";
import { weeklyAverage } from "../../src/trips/service.ts";
import { ensureBenchDatabase } from "../../tools/bench/lib/bench-pg.ts";
import { configureNeonForNode } from "../../tools/db/neon-node.ts";
import { generateTrips, loadTrips, tripLine, tripRegions } from "../../tools/load/trips.ts";
import { rawWeeklyAverage, rollupMismatches } from "../../tools/load/trips-verify.ts";
import { ensureStack, type StackHandle } from "../../tools/stack/stack.ts";

// A scratch database of this run's own: the check compares whole tables, so no other writer may share them.
const database = `geoedge_scratch_trips_${randomBytes(4).toString("hex")}`;
const seed = randomInt(1_000_000, 2_000_000_000);
const count = 20_000;
const resolution = 8;

let stack: StackHandle;
let url: string;
let handle: DbHandle;

const all = (opts: { count: number; seed: number; start?: number; chunkSize?: number }): TripRow[] =>
  [...generateTrips({ chunkSize: 3_000, ...opts })].flat();

beforeAll(async () => {
  stack = await ensureStack();
  url = await ensureBenchDatabase(stack, database);
  configureNeonForNode(stack.proxy);
  handle = createDb({ databaseUrl: url, neonLocalProxy: stack.proxy }, 2);
}, 120_000);

afterAll(async () => {
  await handle?.close();
  if (stack) {
    execFileSync("psql", [
      stack.postgres.url("postgres"),
      "-X",
      "-q",
      "-c",
      `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`,
    ]);
  }
  await stack?.stop();
});

describe("trip loader", () => {
  it("generates the same trips for the same seed, other trips for another, whatever the chunking", () => {
    const a = all({ count: 5_000, seed });
    expect(all({ count: 5_000, seed, chunkSize: 777 })).toEqual(a);
    expect(all({ count: 1_000, seed, start: 4_000 })).toEqual(a.slice(4_000));
    expect(a[0]?.line).toBe(tripLine(0));
    const b = all({ count: 5_000, seed: seed + 1 });
    expect(b.filter((t, i) => t.originLat === a[i]?.originLat).length).toBeLessThan(50);

    // Plausible trips: the sample's regions and sources, near their city, busier at rush hour than
    // at night and on weekdays than at weekends.
    expect(new Set(a.map((t) => t.region))).toEqual(new Set(["Prague", "Turin", "Hamburg"]));
    expect(new Set(a.map((t) => t.datasource)).size).toBe(5);
    const km = a.map((t) => {
      const c = tripRegions[t.region] as { lat: number; lon: number };
      return haversineM(c.lat, c.lon, t.originLat, t.originLon) / 1000;
    });
    km.sort((x, y) => x - y);
    expect(km[km.length / 2]).toBeLessThan(12);
    const hour = (h: number) => a.filter((t) => Number(t.startedAt.slice(11, 13)) === h).length;
    expect(hour(8)).toBeGreaterThan(4 * hour(3));
    const weekend = a.filter((t) => [0, 6].includes(new Date(`${t.startedAt.slice(0, 10)}Z`).getUTCDay()));
    expect(weekend.length / a.length).toBeLessThan(2 / 7);
    expect(a.every((t) => t.startedAt >= "2018-01-01" && t.startedAt < "2020-01-01")).toBe(true);
  });

  it("loads rows whose rollups equal brute-force counts, and a repeated load adds nothing", async () => {
    const opts = { count, seed, resolution, databaseUrl: url, localProxy: stack.proxy, batchSize: 6_000 };
    const first = await loadTrips(opts);
    expect(first).toMatchObject({ rows: count, inserted: count });
    expect(await rollupMismatches(handle.db)).toEqual({ regionWeeks: 0, cellWeeks: 0, groups: 0 });

    expect((await loadTrips(opts)).inserted).toBe(0);
    // More rows of the same load continue it.
    expect((await loadTrips({ ...opts, count: 5_000, start: count })).inserted).toBe(5_000);
    expect(await rollupMismatches(handle.db)).toEqual({ regionWeeks: 0, cellWeeks: 0, groups: 0 });

    const stored = await handle.db.execute<{ n: string; lines: string }>(
      sql`SELECT count(*)::text AS n, count(DISTINCT line)::text AS lines FROM trips WHERE job_id = ${first.jobId}`,
    );
    expect(stored.rows[0]).toEqual({ n: String(count + 5_000), lines: String(count + 5_000) });
    const expected = all({ count: 3, seed, start: 777 });
    const rows = await handle.db.execute<{
      line: number;
      region: string;
      origin_lat: number;
      started_at: string;
    }>(
      sql`SELECT line, region, origin_lat, to_char(started_at, 'YYYY-MM-DD HH24:MI:SS') AS started_at FROM trips
          WHERE job_id = ${first.jobId} AND line = ANY(${sql.param(expected.map((t) => t.line))}::int[]) ORDER BY line`,
    );
    expect(rows.rows).toEqual(
      expected.map((t) => ({
        line: t.line,
        region: t.region,
        origin_lat: t.originLat,
        started_at: t.startedAt,
      })),
    );
  });

  it("answers weekly averages from the rollups like a brute-force count over the loaded rows", async () => {
    for (const region of ["Prague", "Turin", "Hamburg"]) {
      expect(await weeklyAverage(handle.db, { region }, {}, resolution)).toMatchObject(
        await rawWeeklyAverage(handle.db, sql`region = ${region}`),
      );
      expect(
        await weeklyAverage(handle.db, { region }, { from: "2018-03-01", to: "2018-06-30" }, resolution),
      ).toMatchObject(await rawWeeklyAverage(handle.db, sql`region = ${region}`, "2018-03-01", "2018-06-30"));
    }
    const boxes: [number, number, number, number][] = [
      [14.38, 50.04, 14.5, 50.11], // central Prague
      [7.6, 45.0, 7.72, 45.1], // most of Turin
      [9.95, 53.53, 10.02, 53.57], // central Hamburg
    ];
    for (const [minLon, minLat, maxLon, maxLat] of boxes) {
      const answer = await weeklyAverage(
        handle.db,
        { bbox: { minLon, minLat, maxLon, maxLat } },
        {},
        resolution,
      );
      expect(answer.trips).toBeGreaterThan(100);
      expect(answer).toMatchObject(
        await rawWeeklyAverage(
          handle.db,
          sql`origin_lon BETWEEN ${minLon} AND ${maxLon} AND origin_lat BETWEEN ${minLat} AND ${maxLat}`,
        ),
      );
    }
  });
});

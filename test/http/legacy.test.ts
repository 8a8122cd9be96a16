import { exports } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LEGACY_FIELDS } from "../../src/profiles/legacy";
import { compareNearby, EARTH_RADIUS_M, haversineM } from "../../src/profiles/tolerance";
import { bruteForce, isolatedCentre, type Point, scatter, seeded } from "../support/geo";
import { authHeaders, uniqueId } from "../support/keys";
import { testDb } from "../support/services";

const seed = Date.now() % 1_000_000;
const random = seeded(seed);
const db = testDb();
afterAll(() => db.close());

/** The old fields of a profile, as `npm run load:profiles -- --fields legacy` stores them. */
function oldFields(id: string): Record<string, string> {
  return {
    occupation: `Surveyor ${id.slice(-3)}`,
    company_email: `${id}@example.com`,
    credit_card_provider: "VISA 16 digit",
    phone_number: "+1-760-555-0100",
    date_of_birth: "1984-02-29",
    city: "Indio",
    tz: "America/Los_Angeles",
  };
}

/** The point `metres` from `from` on the compass `bearing`, on the sphere the tests measure on. */
function offset(
  from: { lat: number; lon: number },
  metres: number,
  bearing: number,
): { lat: number; lon: number } {
  const rad = Math.PI / 180;
  const d = metres / EARTH_RADIUS_M;
  const lat1 = from.lat * rad;
  const lat2 = Math.asin(
    Math.sin(lat1) * Math.cos(d) + Math.cos(lat1) * Math.sin(d) * Math.cos(bearing * rad),
  );
  const lon2 =
    from.lon * rad +
    Math.atan2(
      Math.sin(bearing * rad) * Math.sin(d) * Math.cos(lat1),
      Math.cos(d) - Math.sin(lat1) * Math.sin(lat2),
    );
  return { lat: Math.round((lat2 / rad) * 1e7) / 1e7, lon: Math.round((lon2 / rad) * 1e7) / 1e7 };
}

async function store(points: (Point & { attributes?: Record<string, unknown> })[]) {
  for (let i = 0; i < points.length; i += 1000) {
    const profiles = points.slice(i, i + 1000).map((p) => ({
      id: p.id,
      name: `Name of ${p.id}`,
      kind: "person",
      lat: p.lat,
      lon: p.lon,
      attributes: p.attributes ?? oldFields(p.id),
    }));
    const res = await exports.default.fetch("http://geoedge.test/v1/profiles", {
      method: "POST",
      headers: { ...authHeaders("ingest"), "content-type": "application/json" },
      body: JSON.stringify({ profiles }),
    });
    expect(res.status).toBe(200);
  }
}

interface OldProfile {
  uuid: string;
  name: string;
  latitude: number;
  longitude: number;
  distance?: number;
  [field: string]: unknown;
}

/** An old client: GET the path exactly as it built it, read `results` from the JSON. */
async function oldClient(path: string): Promise<{ res: Response; results: OldProfile[] }> {
  const res = await exports.default.fetch(`http://geoedge.test${path}`);
  expect(res.status, path).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await res.json()) as { results: OldProfile[] };
  expect(Object.keys(body)).toEqual(["results"]);
  return { res, results: body.results };
}

const centre = isolatedCentre(random);
const crowd: Point[] = scatter(uniqueId("old"), centre, 400, 2000, random);
const ringCentre = isolatedCentre(random);
const rings = [500, 1500, 3000].map((m, i) => ({
  id: uniqueId(`ring${m}`),
  ...offset(ringCentre, m, 40 + i * 100),
}));
const far = { id: uniqueId("far80km"), ...offset(centre, 80_000, 200) };
const demo = { lat: 33.7207, lon: -116.21677 };
const atDemo = [1, 2, 3].map((m) => ({ id: uniqueId(`demo${m}`), ...offset(demo, m, random() * 360) }));

beforeAll(async () => {
  await store([...crowd, ...rings, far, ...atDemo]);
});
// The demo point is shared with every other run of this file: leave nothing there.
afterAll(async () => {
  for (const p of atDemo) {
    await exports.default.fetch(`http://geoedge.test/v1/profiles/${p.id}`, {
      method: "DELETE",
      headers: authHeaders("ingest"),
    });
  }
});

describe("the old distance service's routes", () => {
  it("answer the old README's demo request in the old shape, with or without the trailing slash", async () => {
    for (const path of [
      "/georedis_profiles/33.7207/-116.21677/100/km/",
      "/georedis_profiles/33.7207/-116.21677/100/km",
      "/postgis_profiles/33.7207/-116.21677/100/km/",
      "/postgis_profiles/33.7207/-116.21677/100/km",
    ]) {
      const { res, results } = await oldClient(path);
      expect(res.headers.get("deprecation")).toBe("true");
      expect(res.headers.get("link")).toMatch(
        /^<\/v1\/profiles\/nearby\?engine=(redis|postgis)>; rel="successor-version"$/,
      );
      expect(results.length).toBeGreaterThanOrEqual(3);
      expect(results.length).toBeLessThanOrEqual(100);
      // This test's profiles stand 1, 2 and 3 m from the demo point, in that order (other data
      // may lie as close, e.g. a world-wide load around the demo point).
      const ours = results.filter((p) => atDemo.some((d) => d.id === p.uuid));
      expect(
        ours.map((p) => p.uuid),
        path,
      ).toEqual(atDemo.map((p) => p.id));
      const [first] = ours;
      const postgis = path.startsWith("/postgis");
      expect(Object.keys(first ?? {})).toEqual([
        "uuid",
        "name",
        ...LEGACY_FIELDS,
        "latitude",
        "longitude",
        ...(postgis ? ["distance"] : []),
      ]);
      expect(first).toMatchObject({
        uuid: atDemo[0]?.id,
        name: `Name of ${atDemo[0]?.id}`,
        ...oldFields(atDemo[0]?.id ?? ""),
        latitude: atDemo[0]?.lat,
        longitude: atDemo[0]?.lon,
      });
      if (postgis) {
        expect(ours.map((p) => p.distance)).toEqual([1, 2, 3]);
        const distances = results.map((p) => p.distance ?? Number.NaN);
        expect(distances).toEqual([...distances].sort((a, b) => a - b));
      }
    }
  });

  it("give up to 100 profiles nearest first, the PostGIS distance in whole metres", async () => {
    const radiusM = 2500;
    const expected = bruteForce(crowd, { ...centre, radiusM, limit: 100 });
    expect(expected).toHaveLength(100);
    for (const engine of ["georedis", "postgis"]) {
      const { results } = await oldClient(`/${engine}_profiles/${centre.lat}/${centre.lon}/2.5/km/`);
      expect(results).toHaveLength(100);
      const hits = results.map((p) => ({
        id: p.uuid,
        lat: p.latitude,
        lon: p.longitude,
        distance_m: haversineM(centre.lat, centre.lon, p.latitude, p.longitude),
      }));
      expect(compareNearby(expected, hits, { radiusM, limit: 100 }), engine).toBeUndefined();
      for (const p of results) {
        if (engine === "georedis") {
          expect(p.distance).toBeUndefined();
          continue;
        }
        expect(Number.isInteger(p.distance)).toBe(true);
        expect(
          Math.abs((p.distance ?? 0) - haversineM(centre.lat, centre.lon, p.latitude, p.longitude)),
        ).toBeLessThanOrEqual(0.5 + 1e-6);
      }
    }
  });

  it("take the old units m, km, mi, ft and mt for the radius", async () => {
    const inner = rings.map((r) => r.id);
    const cases: [string, string, string[]][] = [
      ["1", "km", inner.slice(0, 1)],
      ["1000", "m", inner.slice(0, 1)],
      ["1000", "mt", inner.slice(0, 1)],
      ["1", "mi", inner.slice(0, 2)],
      ["5000", "ft", inner.slice(0, 2)],
      ["3.2", "km", inner],
      ["2", "mi", inner],
    ];
    for (const [radius, unit, expected] of cases) {
      for (const engine of ["georedis", "postgis"]) {
        const { results } = await oldClient(
          `/${engine}_profiles/${ringCentre.lat}/${ringCentre.lon}/${radius}/${unit}/`,
        );
        const seen = results.map((p) => p.uuid).filter((id) => inner.includes(id));
        expect(seen, `${engine} ${radius} ${unit}`).toEqual(expected);
      }
    }
  });

  it("search the whole radius asked for: 80 km away is found within 100 km, and any larger radius works", async () => {
    for (const engine of ["georedis", "postgis"]) {
      for (const radius of ["100/km", "100000/m", "62.2/mi", "30000/km"]) {
        const { results } = await oldClient(`/${engine}_profiles/${far.lat}/${far.lon}/${radius}/`);
        expect(results).toHaveLength(100);
        const mine = results
          .map((p) => p.uuid)
          .filter((id) => id === far.id || crowd.some((c) => c.id === id));
        expect(mine[0], `${engine} ${radius}`).toBe(far.id);
        // The crowd lies 80 km from far: beyond the 50 km the old routes used to be cut to.
        expect(mine.length, `${engine} ${radius}`).toBeGreaterThan(1);
      }
      const { results } = await oldClient(`/${engine}_profiles/${far.lat}/${far.lon}/70/km/`);
      const mine = results.map((p) => p.uuid).filter((id) => id === far.id || crowd.some((c) => c.id === id));
      expect(mine).toEqual([far.id]);
    }
  });

  it("answer null for an old field the stored profile lacks, and leave out what Postgres no longer has", async () => {
    const spot = isolatedCentre(random);
    const bare = { id: uniqueId("bare"), ...spot, attributes: { occupation: "Baker" } };
    const ghost = { id: uniqueId("ghost"), ...offset(spot, 5, 0) };
    await store([bare, ghost]);
    // Gone from Postgres without the API (so still in the Redis index until the sync runs).
    await db.db.execute(sql`DELETE FROM profiles WHERE id = ${ghost.id}`);
    for (const engine of ["georedis", "postgis"]) {
      const { results } = await oldClient(`/${engine}_profiles/${spot.lat}/${spot.lon}/50/m/`);
      expect(results.map((p) => p.uuid)).toEqual([bare.id]);
      expect(results[0]).toMatchObject({ occupation: "Baker", company_email: null, tz: null, city: null });
    }
  });
});

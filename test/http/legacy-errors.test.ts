import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

async function problem(path: string): Promise<{ status: number; field?: string; message?: string }> {
  const res = await exports.default.fetch(`http://geoedge.test${path}`);
  const body = (await res.json()) as { errors?: { field: string; message: string }[] };
  return { status: res.status, field: body.errors?.[0]?.field, message: body.errors?.[0]?.message };
}

describe("the old distance service's routes: bad input", () => {
  it("names the path parameter and the rule, on both routes and both path forms", async () => {
    const cases: [string, string, RegExp][] = [
      ["33.7/-116.2/100/yd", "param.unit", /m, mt, km, mi, ft/],
      ["33.7/-116.2/0/km", "param.radius", /> 0/],
      ["33.7/-116.2/-5/km", "param.radius", /> 0/],
      ["33.7/-116.2/far/km", "param.radius", /.+/],
      ["91/-116.2/100/km", "param.lat", /<= 90/],
      ["33.7/-181/100/km", "param.lon", />= -180/],
      ["33.7/-116.2/100/km/?limit=101", "query.limit", /100/],
    ];
    for (const prefix of ["georedis_profiles", "postgis_profiles"]) {
      for (const [rest, field, message] of cases) {
        for (const path of [`/${prefix}/${rest}`, `/${prefix}/${rest.replace("/?", "?")}`]) {
          const answer = await problem(path);
          expect(answer.status, path).toBe(400);
          expect(answer.field, path).toBe(field);
          expect(answer.message, path).toMatch(message);
        }
      }
    }
  });

  it("refuses latitudes Redis cannot index on the Redis route only", async () => {
    const redis = await problem("/georedis_profiles/88/0/100/km/");
    expect(redis).toMatchObject({
      status: 400,
      field: "param.lat",
      message: expect.stringContaining("postgis"),
    });
    const res = await exports.default.fetch("http://geoedge.test/postgis_profiles/88/0/100/km/");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ results: expect.any(Array) });
  });
});

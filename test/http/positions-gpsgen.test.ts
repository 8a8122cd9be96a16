import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { authHeaders, uniqueId } from "../support/keys";

function post(body: string, type: string) {
  return exports.default.fetch("http://geoedge.test/v1/positions", {
    method: "POST",
    headers: { ...authHeaders("ingest"), "content-type": type },
    body,
  });
}

interface Accepted {
  accepted: number;
  rejected_count: number;
  rejected: { index?: number; line?: number; errors: { field: string; rule: string }[] }[];
}

describe("POST /v1/positions with the old GPS generator's records", () => {
  it("accepts them as JSON and as NDJSON, beside geoedge's own fixes, naming the bad ones", async () => {
    const city = uniqueId("X").replace(/-/g, "").slice(0, 12);
    const s = Math.floor(Date.now() / 1000) - 120;
    const records = [
      { id: `${city}:12:936`, state: "to_provider", coord: [-0.1278, 51.5074], timestamp: s },
      { id: `${city}:12:936`, state: "to_customer", coord: [-0.1279, 51.5075], timestamp: s + 10 },
      { id: `${city}:13:0`, state: "free", coord: [-0.13, 51.51], timestamp: s + 10 },
      { id: `${city}:13:0`, state: "lost", coord: [-0.13, 51.51], timestamp: s + 20 },
    ];
    const mixed = [...records, { courier_id: `${city}-new`, recorded_at: s * 1000, lat: 51.5, lon: -0.12 }];
    const json = await post(JSON.stringify({ fixes: mixed }), "application/json");
    expect(json.status).toBe(202);
    const body = (await json.json()) as Accepted;
    expect(body).toMatchObject({ accepted: 4, rejected_count: 1 });
    expect(body.rejected[0]).toMatchObject({
      index: 3,
      errors: [{ field: "fixes.3.state", rule: "invalid_value" }],
    });

    const lines = records.map((r) => JSON.stringify({ ...r, timestamp: r.timestamp + 30 })).join("\n");
    const ndjson = await post(`${lines}\n`, "application/x-ndjson");
    expect(ndjson.status).toBe(202);
    const answer = (await ndjson.json()) as Accepted;
    expect(answer).toMatchObject({ accepted: 3, rejected_count: 1 });
    expect(answer.rejected[0]).toMatchObject({ line: 4, errors: [{ field: "line.4.state" }] });
  });

  it("answers 400 naming the old fields when no record is valid", async () => {
    const res = await post(
      JSON.stringify({
        fixes: [{ id: "LON:1:1", state: "free", coord: [200, 51.5], timestamp: 1_740_000_000 }],
      }),
      "application/json",
    );
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { errors: { field: string }[] };
    expect(problem.errors[0]?.field).toBe("fixes.0.coord.0");
  });
});

import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

/** What a marketplace client reads from `/search`: the status and the contract's `{data, error}`. */
async function search(query: string): Promise<{ status: number; type: string | null; body: unknown }> {
  const res = await exports.default.fetch(`http://geoedge.test/search${query}`);
  return { status: res.status, type: res.headers.get("content-type"), body: await res.json() };
}

const contractError = (field: string) => ({
  data: null,
  error: { code: "invalid_parameter", message: expect.stringMatching(new RegExp(`^${field}: `)) },
});

describe("GET /search: range errors in the contract's shape", () => {
  it("answers 400 when starts_at is after ends_at, as the public test suites expect", async () => {
    for (const query of [
      "?starts_at=2021-07-21T17:32:28Z&ends_at=2017-07-21T17:32:28Z",
      "?starts_at=2021-06-30T21:00:01&ends_at=2021-06-30T21:00:00",
      "?ends_at=2021-01-01T00:00:00Z&starts_at=2021-01-01T00:00:01Z",
    ]) {
      const answer = await search(query);
      expect(answer.status, query).toBe(400);
      expect(answer.type).toMatch(/^application\/json/);
      expect(answer.body, query).toEqual(contractError("starts_at"));
      expect((answer.body as { error: { message: string } }).error.message).toContain("ends_at");
    }
  });

  it("still answers a range that starts and ends at the same instant, and open ranges", async () => {
    for (const query of [
      "?starts_at=2021-06-30T21:00:00Z&ends_at=2021-06-30T21:00:00Z",
      "?starts_at=2017-07-21T17:32:28Z&ends_at=2021-07-21T17:32:28Z",
      "?starts_at=2021-07-21T17:32:28Z",
      "?ends_at=2017-07-21T17:32:28Z",
    ]) {
      const answer = await search(query);
      expect(answer.status, query).toBe(200);
      expect(answer.body).toMatchObject({ data: { events: expect.any(Array) }, error: null });
    }
  });

  it("keeps answering 400 to impossible dates and garbage, naming the parameter", async () => {
    for (const [query, field] of [
      ["?starts_at=2021-09-31T10:00:00Z", "starts_at"],
      ["?ends_at=2021-02-30T10:00:00", "ends_at"],
      ["?starts_at=2021-06-01T25:00:00Z", "starts_at"],
      ["?starts_at=yesterday", "starts_at"],
      ["?ends_at=", "ends_at"],
      ["?starts_at=2021-09-31T10:00:00Z&ends_at=2021-01-01T00:00:00Z", "starts_at"],
    ] as const) {
      const answer = await search(query);
      expect(answer.status, query).toBe(400);
      expect(answer.body, query).toEqual(contractError(field));
    }
  });
});

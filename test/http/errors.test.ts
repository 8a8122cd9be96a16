import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { authHeaders } from "../support/keys";

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  request_id: string;
  errors?: { field: string; rule: string; message: string }[];
}

async function problem(res: Response): Promise<Problem> {
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as Problem;
  expect(body.request_id).toBe(res.headers.get("x-request-id"));
  expect(body.status).toBe(res.status);
  return body;
}

describe("one error shape", () => {
  it("answers an unknown route with a 404 problem", async () => {
    const res = await exports.default.fetch("http://geoedge.test/v1/nothing-here");
    expect(res.status).toBe(404);
    const body = await problem(res);
    expect(body.code).toBe("not_found");
    expect(body.detail).toContain("/v1/nothing-here");
    expect(body.type).toBe("/docs/errors#not_found");
  });

  it("names the field and the rule when validation fails", async () => {
    const res = await exports.default.fetch("http://geoedge.test/v1/couriers/bad%20id!", {
      headers: authHeaders("read"),
    });
    expect(res.status).toBe(400);
    const body = await problem(res);
    expect(body.code).toBe("validation_failed");
    expect(body.errors).toEqual([expect.objectContaining({ field: "param.id", rule: "invalid_format" })]);
    expect(body.detail).toContain("param.id");
  });

  it("answers 404 for a courier that never sent a fix", async () => {
    const res = await exports.default.fetch("http://geoedge.test/v1/couriers/never-seen-courier", {
      headers: authHeaders("read"),
    });
    expect(res.status).toBe(404);
    expect((await problem(res)).code).toBe("not_found");
  });
});

describe("API keys and scopes", () => {
  it("refuses a request without a key", async () => {
    const res = await exports.default.fetch("http://geoedge.test/v1/whoami");
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe("unauthorized");
  });

  it("refuses an unknown key", async () => {
    const res = await exports.default.fetch("http://geoedge.test/v1/whoami", {
      headers: { authorization: "Bearer not-a-real-key-0000000000" },
    });
    expect(res.status).toBe(401);
    expect((await problem(res)).detail).toContain("not valid");
  });

  it("refuses a key without the scope the route needs", async () => {
    const res = await exports.default.fetch("http://geoedge.test/v1/whoami", {
      headers: authHeaders("ingest"),
    });
    expect(res.status).toBe(403);
    const body = await problem(res);
    expect(body.code).toBe("forbidden");
    expect(body.detail).toContain("'read'");
  });

  it("accepts a key with the scope, and admin implies every scope", async () => {
    const read = await exports.default.fetch("http://geoedge.test/v1/whoami", {
      headers: authHeaders("read"),
    });
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual({ key_id: "test-read", scopes: ["read"] });
    const admin = await exports.default.fetch("http://geoedge.test/v1/whoami", {
      headers: authHeaders("admin"),
    });
    expect(admin.status).toBe(200);
    expect(((await admin.json()) as { key_id: string }).key_id).toBe("test-admin");
  });
});

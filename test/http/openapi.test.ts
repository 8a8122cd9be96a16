import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("API description", () => {
  it("serves an OpenAPI 3.1 document generated from the route schemas", async () => {
    const res = await exports.default.fetch("http://geoedge.test/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { parameters?: { name: string }[]; security?: unknown[] }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/health", "/v1/whoami", "/v1/couriers/{id}"]),
    );
    expect(doc.paths["/v1/couriers/{id}"]?.get?.parameters?.map((p) => p.name)).toEqual(["id"]);
    expect(doc.paths["/v1/whoami"]?.get?.security).toEqual([{ bearer: [] }]);
    expect(doc.components.securitySchemes.bearer).toBeDefined();
  });

  it("renders a browsable docs page from the same document", async () => {
    const res = await exports.default.fetch("http://geoedge.test/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain("<code>/v1/couriers/{id}</code>");
    expect(html).toContain('id="error-validation_failed"');
    expect(html).not.toMatch(/<script[^>]+src=/);
  });
});

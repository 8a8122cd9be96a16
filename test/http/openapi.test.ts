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

  it("serves the interactive reference of that document from the Worker's own assets", async () => {
    const res = await exports.default.fetch("http://geoedge.test/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain("/openapi.json");
    expect(html).toContain('src="/vendor/scalar/standalone.js"');
    // Nothing is loaded from another host: the page works from a closed network.
    expect(html).not.toMatch(/(src|href)="https?:\/\//);
  });

  it("lists every error code on /docs/errors, where problem bodies' type points", async () => {
    const res = await exports.default.fetch("http://geoedge.test/docs/errors");
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const code of ["validation_failed", "not_found", "dependency_unavailable"]) {
      expect(html).toContain(`id="${code}"`);
    }
  });
});

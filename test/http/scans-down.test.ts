import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { objectNames } from "../../src/objects/names";
import { createApp } from "../../workers/http/app";
import { authHeaders, uniqueId } from "../support/keys";

describe("POST /v1/scans with one seller's object unavailable", () => {
  it("records the other sellers' scans and names exactly the rows to send again", async () => {
    const up = uniqueId("seller");
    const down = uniqueId("seller");
    // The real objects, except that one seller's object fails as an unreachable one would.
    const real = env.SELLER_DEBOUNCER;
    const failing = {
      getByName: (name: string) =>
        name === objectNames.sellerDebouncer(down)
          ? { scan: () => Promise.reject(new Error("object unavailable")) }
          : real.getByName(name),
    } as unknown as Env["SELLER_DEBOUNCER"];
    const ctx = createExecutionContext();
    const res = await createApp().fetch(
      new Request("http://geoedge.test/v1/scans", {
        method: "POST",
        headers: { ...authHeaders("ingest"), "content-type": "application/json" },
        body: JSON.stringify({
          scans: [
            { seller_id: up, package_id: "AAAAAA" },
            { seller_id: down, package_id: "BBBBBB" },
            { seller_id: up, package_id: "CCCCCC" },
            { seller_id: down, package_id: "bad id" },
            { seller_id: down, package_id: "DDDDDD" },
          ],
        }),
      }),
      { ...env, SELLER_DEBOUNCER: failing },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(503);
    const problem = (await res.json()) as { code: string; errors: { field: string; rule: string }[] };
    expect(problem.code).toBe("dependency_unavailable");
    // The invalid row is not named: sending it again would not help.
    expect(problem.errors.map((e) => [e.field, e.rule])).toEqual([
      ["body.scans.1", "not_recorded"],
      ["body.scans.4", "not_recorded"],
    ]);

    const pending = await exports.default.fetch(`http://geoedge.test/v1/sellers/${up}/pending`, {
      headers: authHeaders("read"),
    });
    expect(((await pending.json()) as { package_ids: string[] }).package_ids).toEqual(["AAAAAA", "CCCCCC"]);
  });
});

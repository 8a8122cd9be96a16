import { createRoute, z } from "@hono/zod-openapi";
import { MAX_LIMIT, MAX_RADIUS_M } from "../../../src/profiles/schemas";
import { nearby } from "../../../src/profiles/service";
import { createRouter } from "../context";

const params = z.object({
  lat: z.coerce
    .number()
    .min(-90)
    .max(90)
    .openapi({ param: { name: "lat", in: "path" } }),
  lon: z.coerce
    .number()
    .min(-180)
    .max(180)
    .openapi({ param: { name: "lon", in: "path" } }),
  radius: z.coerce
    .number()
    .positive()
    .openapi({ param: { name: "radius", in: "path" } }),
  unit: z.enum(["km", "m"]).openapi({ param: { name: "unit", in: "path" } }),
});
const query = z.object({ limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(20) });

const hit = z
  .object({
    id: z.string(),
    distance: z.number(),
    unit: z.enum(["km", "m"]),
    lat: z.number(),
    lon: z.number(),
  })
  .openapi("LegacyNearbyHit");

function legacyRoute(path: string, engine: "redis" | "postgis") {
  return createRoute({
    method: "get",
    path,
    summary: `Deprecated: nearby profiles through ${engine} (old path, lat before lon)`,
    description: `Kept for clients of the old service. Use \`GET /v1/profiles/nearby?engine=${engine}\`. The radius is in \`unit\` (km or m, at most ${MAX_RADIUS_M} m), and so are the distances returned. Answers carry \`Deprecation\` and a \`Link\` to the successor.`,
    tags: ["deprecated"],
    deprecated: true,
    request: { params, query },
    responses: {
      200: { description: "Nearest first", content: { "application/json": { schema: z.array(hit) } } },
    },
  });
}

/** The old service's nearby paths, answered by the new engines. */
export const legacy = createRouter();

for (const [path, engine] of [
  ["/georedis_profiles/{lat}/{lon}/{radius}/{unit}", "redis"],
  ["/postgis_profiles/{lat}/{lon}/{radius}/{unit}", "postgis"],
] as const) {
  legacy.openapi(legacyRoute(path, engine), async (c) => {
    const p = c.req.valid("param");
    const { limit } = c.req.valid("query");
    const scale = p.unit === "km" ? 1000 : 1;
    const radiusM = Math.min(p.radius * scale, MAX_RADIUS_M);
    const result = await nearby(
      { db: c.var.db(), redis: c.var.redis() },
      { lat: p.lat, lon: p.lon, radiusM, limit, engine },
    );
    c.header("Deprecation", "true");
    c.header("Link", `</v1/profiles/nearby?engine=${engine}>; rel="successor-version"`);
    return c.json(
      result.hits.map((h) => ({
        id: h.id,
        distance: h.distance_m / scale,
        unit: p.unit,
        lat: h.lat,
        lon: h.lon,
      })),
      200,
    );
  });
}

import { createRoute, z } from "@hono/zod-openapi";
import {
  LEGACY_FIELDS,
  LEGACY_LIMIT,
  LEGACY_UNITS,
  type LegacyUnit,
  legacyNearby,
} from "../../../src/profiles/legacy";
import { createRouter } from "../context";

const units = Object.keys(LEGACY_UNITS) as [LegacyUnit, ...LegacyUnit[]];

const params = z.object({
  lat: z.coerce
    .number()
    .min(-90, "must be >= -90")
    .max(90, "must be <= 90")
    .openapi({ param: { name: "lat", in: "path" }, example: 33.7207 }),
  lon: z.coerce
    .number()
    .min(-180, "must be >= -180")
    .max(180, "must be <= 180")
    .openapi({ param: { name: "lon", in: "path" }, example: -116.21677 }),
  radius: z.coerce
    .number()
    .positive("must be > 0")
    .finite("must be a finite number")
    .openapi({ param: { name: "radius", in: "path" }, example: 100 }),
  unit: z
    .enum(units, { error: `must be one of ${units.join(", ")}` })
    .openapi({ param: { name: "unit", in: "path" }, example: "km" }),
});
const query = z.object({
  limit: z.coerce.number().int().min(1).max(LEGACY_LIMIT, `must be <= ${LEGACY_LIMIT}`).default(LEGACY_LIMIT),
});

const oldFields = Object.fromEntries(LEGACY_FIELDS.map((f) => [f, z.unknown().describe("from attributes")]));

function answer(withDistance: boolean) {
  const profile = z.object({
    uuid: z.string().describe("the profile's id"),
    name: z.string(),
    ...oldFields,
    latitude: z.number(),
    longitude: z.number(),
    ...(withDistance ? { distance: z.number().int().describe("great-circle distance in metres") } : {}),
  });
  return z.object({ results: z.array(profile) });
}

function legacyRoute(path: string, engine: "redis" | "postgis", hide: boolean) {
  return createRoute({
    method: "get",
    path,
    hide,
    summary: `Deprecated: nearby profiles through ${engine} (the old service's path, lat before lon)`,
    description: `Kept so that clients of the old distance service work unchanged, with or without the trailing slash. Answers \`{"results": [...]}\`: up to ${LEGACY_LIMIT} live profiles (\`?limit=\` for fewer) nearest first within \`radius\` ${units.join("/")}, each with the old fields (${LEGACY_FIELDS.join(", ")}) from its stored attributes (null when absent)${engine === "postgis" ? " and `distance` in whole metres whatever the unit" : ""}. Any radius works (beyond half the Earth's circumference it finds the same as that). Needs no API key, like the old service; answers carry \`Deprecation\` and a \`Link\` to the successor, \`GET /v1/profiles/nearby?engine=${engine}\`.`,
    tags: ["deprecated"],
    deprecated: true,
    request: { params, query },
    responses: {
      200: {
        description: "Nearest first",
        content: { "application/json": { schema: answer(engine === "postgis") } },
      },
    },
  });
}

/** The old service's nearby paths, answered by the new engines in the old shape. */
export const legacy = createRouter();

for (const [prefix, engine] of [
  ["/georedis_profiles", "redis"],
  ["/postgis_profiles", "postgis"],
] as const) {
  const path = `${prefix}/{lat}/{lon}/{radius}/{unit}`;
  for (const [form, hide] of [
    [`${path}/`, false],
    [path, true],
  ] as const) {
    legacy.openapi(legacyRoute(form, engine, hide), async (c) => {
      const p = c.req.valid("param");
      const { limit } = c.req.valid("query");
      const results = await legacyNearby(
        { db: c.var.db(), redis: c.var.redis() },
        { lat: p.lat, lon: p.lon, radiusM: p.radius * LEGACY_UNITS[p.unit], limit, engine },
      );
      c.header("Deprecation", "true");
      c.header("Link", `</v1/profiles/nearby?engine=${engine}>; rel="successor-version"`);
      return c.json({ results }, 200);
    });
  }
}

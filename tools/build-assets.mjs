// Copies the browser libraries the map page and the API reference use from node_modules into
// public/vendor, so both are served from the Worker's own assets (no CDN: they work offline). Plain JavaScript: wrangler runs it as its build
// command with whatever Node it finds.
import { cpSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(root, "public", "vendor");
mkdirSync(vendor, { recursive: true });
const leaflet = join(root, "node_modules", "leaflet", "dist");
cpSync(join(leaflet, "leaflet.js"), join(vendor, "leaflet.js"));
cpSync(join(leaflet, "leaflet.css"), join(vendor, "leaflet.css"));
cpSync(join(leaflet, "images"), join(vendor, "images"), { recursive: true });
cpSync(join(root, "node_modules", "h3-js", "dist", "h3-js.umd.js"), join(vendor, "h3-js.umd.js"));
// Scalar's standalone bundle renders /docs from /openapi.json, with "try it" against this API.
mkdirSync(join(vendor, "scalar"), { recursive: true });
cpSync(
  join(root, "node_modules", "@scalar", "api-reference", "dist", "browser", "standalone.js"),
  join(vendor, "scalar", "standalone.js"),
);
console.log("public/vendor: leaflet, h3-js, scalar");

import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command } from "../lib/cli";

/**
 * `npm run db:generate [-- --name <name>]`: runs `drizzle-kit generate`, then
 * repairs what it gets wrong for PostGIS. drizzle-kit writes custom column types quoted, so `geography(Point,4326)` comes out as an
 * identifier ("geography(Point,4326)") and the SQL fails. This unquotes PostGIS types in every
 * migration after `drizzle-kit generate`. Running it twice changes nothing.
 */
const cli = new Command({
  prog: "npm run db:generate --",
  description: `Writes a new migration in migrations/ from the schema in src/db/schema.ts (drizzle-kit generate),
then unquotes the PostGIS column types drizzle-kit quotes.`,
});
cli.add_argument("--name", { help: "the migration's name (default: drizzle-kit's random one)" });
cli.add_argument("--custom", { action: "store_true", help: "an empty migration to write by hand" });
const options = cli.parse_args() as { name?: string; custom: boolean };

const dir = resolve(import.meta.dirname, "../../migrations");
const kit = spawnSync(
  resolve(import.meta.dirname, "../../node_modules/.bin/drizzle-kit"),
  ["generate", ...(options.name ? ["--name", options.name] : []), ...(options.custom ? ["--custom"] : [])],
  { stdio: "inherit" },
);
if (kit.status !== 0) process.exit(kit.status ?? 1);
const quoted = /"((?:geography|geometry)\([A-Za-z]+(?:,\s*\d+)?\))"/g;

let changed = 0;
for (const name of readdirSync(dir).filter((f) => f.endsWith(".sql"))) {
  const path = join(dir, name);
  const before = readFileSync(path, "utf8");
  let after = before.replace(quoted, "$1");
  if (!after.endsWith("\n")) after += "\n";
  if (after !== before) {
    writeFileSync(path, after);
    changed++;
    console.log(`fixed ${name}`);
  }
}
console.log(changed ? `${changed} migration(s) fixed` : "migrations already clean");

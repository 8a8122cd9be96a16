import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Pool } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-serverless";
import type { Db } from "../../../src/db/client";
import * as schema from "../../../src/db/schema";
import { nearbyPostgis } from "../../../src/profiles/repo";
import type { NearbyHit } from "../../../src/profiles/schemas";
import { migrateDatabase } from "../../db/migrate";
import { neonPool } from "../../load/write";
import type { StackHandle } from "../../stack/stack";
import { type Measured, quantile } from "./drive";
import type { NearbyQuery } from "./naive";

const run = promisify(execFile);

/** The database the benchmark owns: created if missing, then migrated. Returns its URL. */
export async function benchDatabase(stack: StackHandle, name = "geoedge_bench"): Promise<string> {
  const psql = [
    "-h",
    "127.0.0.1",
    "-p",
    String(stack.postgres.port),
    "-U",
    "postgres",
    "-d",
    "postgres",
    "-tA",
  ];
  const { stdout } = await run("psql", [
    ...psql,
    "-c",
    `SELECT 1 FROM pg_database WHERE datname = '${name}'`,
  ]);
  if (stdout.trim() !== "1") await run("psql", [...psql, "-c", `CREATE DATABASE ${name}`]);
  const url = stack.postgres.url(name);
  await migrateDatabase(url, stack.proxy);
  return url;
}

/** The PostGIS engine as the app runs it: `nearbyPostgis` (drizzle, Neon driver) over a pool. */
export class PostgisContender {
  readonly pool: Pool;
  private readonly db: Db;

  constructor(url: string, proxy: string, connections: number) {
    this.pool = neonPool(url, proxy, connections);
    this.db = drizzle({ client: this.pool, schema });
  }

  nearby(q: NearbyQuery): Promise<NearbyHit[]> {
    return nearbyPostgis(this.db, q);
  }

  /** Heap, index and total size of `profiles`, in bytes. */
  async sizes(): Promise<{ table: number; indexes: number; total: number }> {
    const { rows } = await this.pool.query<{ t: string; i: string; all: string }>(
      `SELECT pg_table_size('profiles') AS t, pg_indexes_size('profiles') AS i, pg_total_relation_size('profiles') AS all`,
    );
    const r = rows[0];
    return { table: Number(r?.t), indexes: Number(r?.i), total: Number(r?.all) };
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/**
 * The same query through `pgbench` over plain TCP (no WebSocket proxy, no JavaScript driver):
 * the ceiling that shows how much of the PostGIS row is Postgres and how much is the path to it.
 * The query points go into a small table; each transaction looks one up by primary key, then runs
 * the query with it as parameters (extended protocol, unnamed statements, like the driver).
 */
export async function pgbenchCeiling(
  stack: StackHandle,
  database: string,
  points: [number, number][],
  q: { radiusM: number; limit: number },
  clients: number,
  seconds: number,
): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), "geoedge-pgbench-"));
  const conn = ["-h", "127.0.0.1", "-p", String(stack.postgres.port), "-U", "postgres"];
  try {
    // Through a file: thousands of points make too long an argument for `psql -c`.
    const setup = join(dir, "points.sql");
    writeFileSync(
      setup,
      "DROP TABLE IF EXISTS bench_query_points;\n" +
        "CREATE TABLE bench_query_points (i int PRIMARY KEY, lat float8, lon float8);\n" +
        `INSERT INTO bench_query_points VALUES ${points.map(([lat, lon], i) => `(${i + 1},${lat},${lon})`).join(",")};\n` +
        "ANALYZE bench_query_points;\n",
    );
    await run("psql", [...conn, "-d", database, "-q", "-v", "ON_ERROR_STOP=1", "-f", setup]);
    const script = join(dir, "nearby.sql");
    // The point is fetched first (\gset) so the nearby query gets it as parameters, as the app's
    // does: joined to the points table instead, the planner sorts the whole radius rather than walk
    // the GiST index in distance order (10 times slower at 1 M rows).
    writeFileSync(
      script,
      `\\set i random(1, ${points.length})\n` +
        "SELECT lat, lon FROM bench_query_points WHERE i = :i \\gset\n" +
        `SELECT id, distance_m, lat, lon FROM nearby_profiles(:lat, :lon, ${q.radiusM}, ${q.limit});\n`,
    );
    const { stdout } = await run("pgbench", [
      ...conn,
      "-n",
      "-M",
      "extended",
      "-c",
      String(clients),
      "-j",
      "2",
      "-T",
      String(seconds),
      "-f",
      script,
      "--log",
      `--log-prefix=${join(dir, "log")}`,
      // pgbench takes the database as an argument: its -d means --debug.
      database,
    ]);
    const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
    // Per-transaction log lines: client, transaction number, latency in µs, script, epoch s, µs.
    const micros = readdirSync(dir)
      .filter((f) => f.startsWith("log"))
      .flatMap((f) =>
        readFileSync(join(dir, f), "utf8")
          .trim()
          .split("\n")
          .map((line) => Number(line.split(" ")[2])),
      );
    const sorted = Float64Array.from(micros, (us) => us / 1000).sort();
    return {
      queries: sorted.length,
      seconds,
      qps: tps,
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

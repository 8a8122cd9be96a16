import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findBinary, isPortOpen, run, waitFor } from "./processes";

const PG_BIN = "/usr/lib/postgresql/15/bin";
const POSTGIS_CONTROL = "/usr/share/postgresql/15/extension/postgis.control";

interface PgPaths {
  data: string;
  socket: string;
  log: string;
}

function paths(dir: string): PgPaths {
  return { data: join(dir, "pg"), socket: join(dir, "run"), log: join(dir, "logs", "postgres.log") };
}

/** Postgres (and PgBouncer) refuse to run as root: as root, their commands run as the `postgres` user. */
export function asOwner(binary: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", binary, ...args]] : [binary, args];
}

/** The `postgres` system user's ids (the owner of the stack's database files when run as root). */
export function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("postgres:"));
  const parts = line?.split(":");
  if (!parts?.[2] || !parts[3])
    throw new Error("the 'postgres' system user is missing; reinstall the package 'postgresql-15'");
  return { uid: Number(parts[2]), gid: Number(parts[3]) };
}

/** Checks that PostgreSQL 15 and PostGIS 3 are installed, naming the package to install if not. */
export function checkPostgresInstalled(): void {
  if (!findBinary(join(PG_BIN, "pg_ctl"))) {
    throw new Error(`PostgreSQL 15 was not found in ${PG_BIN}: install the Debian package 'postgresql-15'`);
  }
  if (!existsSync(POSTGIS_CONTROL)) {
    throw new Error("PostGIS was not found: install the Debian package 'postgresql-15-postgis-3'");
  }
  if (!findBinary("psql"))
    throw new Error("psql was not found: install the Debian package 'postgresql-client-15'");
}

/** Creates the cluster on first use and starts it; returns the postmaster PID. */
export async function startPostgres(dir: string, port: number): Promise<number> {
  checkPostgresInstalled();
  const p = paths(dir);
  for (const d of [p.socket, join(dir, "logs")]) mkdirSync(d, { recursive: true });
  const root = process.getuid?.() === 0;
  const owner = root ? postgresUser() : undefined;
  if (!existsSync(join(p.data, "PG_VERSION"))) {
    mkdirSync(p.data, { recursive: true, mode: 0o700 });
    if (owner) chownSync(p.data, owner.uid, owner.gid);
    const [cmd, args] = asOwner(join(PG_BIN, "initdb"), [
      "-D",
      p.data,
      "-U",
      "postgres",
      "--auth=trust",
      "-E",
      "UTF8",
      "--no-locale",
    ]);
    await run(cmd, args);
  }
  if (!existsSync(p.log)) writeFileSync(p.log, "");
  if (owner) {
    chownSync(p.socket, owner.uid, owner.gid);
    chownSync(p.log, owner.uid, owner.gid);
  }
  // A throwaway cluster: durability off for speed, loopback only, its own socket directory.
  const options = [
    `-p ${port}`,
    `-k ${p.socket}`,
    "-c listen_addresses=127.0.0.1",
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=200",
  ].join(" ");
  const [cmd, args] = asOwner(join(PG_BIN, "pg_ctl"), [
    "-D",
    p.data,
    "-l",
    p.log,
    "-w",
    "-t",
    "60",
    "-o",
    options,
    "start",
  ]);
  await run(cmd, args);
  await waitFor(() => isPortOpen(port), 10_000, `postgres did not open port ${port}; see ${p.log}`);
  return readPostmasterPid(dir);
}

/** The PID of the running postmaster of the cluster under `dir`. */
export function readPostmasterPid(dir: string): number {
  const file = join(paths(dir).data, "postmaster.pid");
  return Number(readFileSync(file, "utf8").split("\n")[0]);
}

/** Stops the cluster under `dir` with a fast shutdown. */
export async function stopPostgres(dir: string): Promise<void> {
  const [cmd, args] = asOwner(join(PG_BIN, "pg_ctl"), ["-D", paths(dir).data, "-m", "fast", "-w", "stop"]);
  await run(cmd, args);
}

/** Creates each database that does not exist yet. */
export async function ensureDatabases(port: number, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const psql = [
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-U",
      "postgres",
      "-d",
      "postgres",
      "-v",
      "ON_ERROR_STOP=1",
      "-tA",
    ];
    const exists = await run("psql", [...psql, "-c", `SELECT 1 FROM pg_database WHERE datname = '${name}'`]);
    if (exists.trim() !== "1") await run("psql", [...psql, "-c", `CREATE DATABASE "${name}"`]);
  }
}

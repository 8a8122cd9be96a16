import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { asOwner, postgresUser } from "./postgres-user.ts";
import { findBinary, isPortOpen, run, waitFor } from "./processes.ts";
import { prepareServerDir, serverDir } from "./server-dir.ts";

const PG_BIN = "/usr/lib/postgresql/15/bin";
const POSTGIS_CONTROL = "/usr/share/postgresql/15/extension/postgis.control";

interface PgPaths {
  data: string;
  socket: string;
  log: string;
}

/** The cluster's files, in the stack's server directory (see {@link serverDir}). */
function paths(stackDir: string): PgPaths {
  const dir = serverDir(stackDir);
  return { data: join(dir, "pg"), socket: join(dir, "run"), log: join(dir, "logs", "postgres.log") };
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
  const home = prepareServerDir(dir);
  const p = paths(dir);
  const owner = process.getuid?.() === 0 ? postgresUser() : undefined;
  // The server's own directory as the working directory: the `postgres` user may not be allowed
  // into the caller's (a checkout in root's home, say).
  const cwd = { cwd: home };
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
    await run(cmd, args, cwd);
  }
  if (!existsSync(p.log)) writeFileSync(p.log, "");
  if (owner) chownSync(p.log, owner.uid, owner.gid);
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
  await run(cmd, args, cwd);
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
  await run(cmd, args, { cwd: serverDir(dir) });
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

import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { asOwner, postgresUser } from "./postgres-user.ts";
import { findBinary, isAlive, isPortOpen, run, waitFor } from "./processes.ts";
import { prepareServerDir } from "./server-dir.ts";

const PGBOUNCER = "/usr/sbin/pgbouncer";

/**
 * Starts PgBouncer in transaction mode on `port` in front of the stack's Postgres, as Neon's pooled
 * endpoint is in production: the Worker opens a connection per invocation, and without a pool each
 * one would start a Postgres backend and pay PostGIS's first-use cost again. Returns its PID.
 */
export async function startPgbouncer(dir: string, port: number, postgresPort: number): Promise<number> {
  const binary = findBinary(PGBOUNCER) ?? findBinary("pgbouncer");
  if (!binary) {
    throw new Error(
      "pgbouncer was not found: install the Debian package 'pgbouncer' (apt-get install pgbouncer)",
    );
  }
  const server = prepareServerDir(dir);
  const home = join(server, "pgbouncer");
  mkdirSync(home, { recursive: true });
  const pidfile = join(home, "pgbouncer.pid");
  const log = join(server, "logs", "pgbouncer.log");
  rmSync(pidfile, { force: true });
  // Trust on loopback, like the cluster behind it; the users file only has to name the user.
  writeFileSync(join(home, "users.txt"), '"postgres" ""\n');
  writeFileSync(
    join(home, "pgbouncer.ini"),
    [
      "[databases]",
      `* = host=127.0.0.1 port=${postgresPort}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      "auth_type = trust",
      `auth_file = ${join(home, "users.txt")}`,
      "pool_mode = transaction",
      "max_client_conn = 4000",
      "default_pool_size = 20",
      "server_reset_query =",
      "ignore_startup_parameters = extra_float_digits,options",
      `logfile = ${log}`,
      `pidfile = ${pidfile}`,
      "",
    ].join("\n"),
  );
  if (!existsSync(log)) writeFileSync(log, "");
  if (process.getuid?.() === 0) {
    const owner = postgresUser();
    for (const path of [home, log]) chownSync(path, owner.uid, owner.gid);
  }
  const [cmd, args] = asOwner(binary, ["-d", join(home, "pgbouncer.ini")]);
  await run(cmd, args, { cwd: server });
  await waitFor(
    async () =>
      existsSync(pidfile) && readFileSync(pidfile, "utf8").trim() !== "" && (await isPortOpen(port)),
    10_000,
    `pgbouncer did not start on port ${port}; see ${log}`,
  );
  const pid = Number(readFileSync(pidfile, "utf8").trim());
  if (!isAlive(pid)) throw new Error("pgbouncer exited right after starting");
  return pid;
}

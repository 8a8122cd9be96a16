import { createHash } from "node:crypto";
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { postgresUser } from "./postgres-user.ts";

/** Where the stacks of a root user keep what the `postgres` user must reach. */
export const ROOT_SERVER_BASE = "/var/lib/geoedge/stacks";

/**
 * The directory holding the files PostgreSQL and PgBouncer open themselves: the cluster, the socket
 * directory, their logs and PgBouncer's configuration. Both refuse to run as root, so as root they
 * run as the `postgres` user, which may not be able to enter the checkout at all (a clone in root's
 * home or in a `mktemp -d` directory, mode 700). As root their files therefore live under
 * {@link ROOT_SERVER_BASE}, one directory per stack named by a hash of the stack's directory (with a
 * `stack-dir` file naming it back); as any other user, inside the stack's directory.
 */
export function serverDir(stackDir: string): string {
  if (process.getuid?.() !== 0) return stackDir;
  const id = createHash("sha256").update(stackDir).digest("hex").slice(0, 12);
  return join(ROOT_SERVER_BASE, id);
}

/** Creates the server directory (owned by `postgres` when root) with its `run` and `logs` folders. */
export function prepareServerDir(stackDir: string): string {
  const dir = serverDir(stackDir);
  // The folders above it must stay enterable by `postgres`.
  if (dir !== stackDir) mkdirSync(ROOT_SERVER_BASE, { recursive: true, mode: 0o755 });
  for (const d of [dir, join(dir, "run"), join(dir, "logs")]) mkdirSync(d, { recursive: true, mode: 0o700 });
  if (dir !== stackDir) {
    writeFileSync(join(dir, "stack-dir"), `${stackDir}\n`);
    const owner = postgresUser();
    for (const d of [dir, join(dir, "run"), join(dir, "logs")]) chownSync(d, owner.uid, owner.gid);
  }
  return dir;
}

import { readFileSync } from "node:fs";

/** Postgres (and PgBouncer) refuse to run as root: as root, their commands run as the `postgres` user. */
export function asOwner(binary: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", binary, ...args]] : [binary, args];
}

/** The `postgres` system user's ids (the owner of the stack's server files when run as root). */
export function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("postgres:"));
  const parts = line?.split(":");
  if (!parts?.[2] || !parts[3])
    throw new Error("the 'postgres' system user is missing; reinstall the package 'postgresql-15'");
  return { uid: Number(parts[2]), gid: Number(parts[3]) };
}

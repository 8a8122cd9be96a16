import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

/** What a package is needed for: the local stack (dev, tests, tools) or only the test suite. */
export type Purpose = "stack" | "test";

/** One operating-system package the project relies on, and how to tell it is installed. */
export interface SystemPackage {
  /** The Debian/Ubuntu package name. */
  name: string;
  /** A file the package installs; its presence means the package is there. */
  provides: string;
  why: string;
  purposes: Purpose[];
}

/**
 * The one list of system packages. `npm run dev`, `npm test`, every stack tool and CI install
 * them through {@link ensureSystemPackages}, so nothing else keeps a list of its own.
 */
export const systemPackages: readonly SystemPackage[] = [
  {
    name: "redis-server",
    provides: "/usr/bin/redis-server",
    why: "the stack's Redis, behind the Upstash REST bridge",
    purposes: ["stack"],
  },
  {
    name: "redis-tools",
    provides: "/usr/bin/redis-benchmark",
    why: "redis-benchmark, the bridge benchmark's baseline",
    purposes: ["stack"],
  },
  {
    name: "postgresql-15",
    provides: "/usr/lib/postgresql/15/bin/pg_ctl",
    why: "the stack's PostgreSQL server",
    purposes: ["stack"],
  },
  {
    name: "postgresql-15-postgis-3",
    provides: "/usr/share/postgresql/15/extension/postgis.control",
    why: "PostGIS, for the geography columns and nearby queries",
    purposes: ["stack"],
  },
  {
    name: "postgresql-client-15",
    provides: "/usr/lib/postgresql/15/bin/psql",
    why: "psql and pgbench, to create databases and for the PostGIS benchmark",
    purposes: ["stack"],
  },
  {
    name: "pgbouncer",
    provides: "/usr/sbin/pgbouncer",
    why: "the connection pool in front of Postgres, as Neon's pooled endpoint is in production",
    purposes: ["stack"],
  },
  {
    name: "chromium",
    provides: "/usr/bin/chromium",
    why: "the browser the map and /docs tests drive (playwright-core, no browser download)",
    purposes: ["test"],
  },
];

/** The packages `purposes` need that are not installed. */
export function missingPackages(
  purposes: readonly Purpose[],
  packages: readonly SystemPackage[] = systemPackages,
): SystemPackage[] {
  return packages.filter((p) => p.purposes.some((x) => purposes.includes(x)) && !existsSync(p.provides));
}

/** The command a person would run to install `packages` by hand. */
export function installCommand(packages: readonly SystemPackage[]): string {
  return `sudo apt-get install -y --no-install-recommends ${packages.map((p) => p.name).join(" ")}`;
}

function osRelease(): string {
  try {
    return readFileSync("/etc/os-release", "utf8");
  } catch {
    return "";
  }
}

/** How this process may run commands as root: directly, through passwordless sudo, or not at all. */
function rootPrefix(): string[] | undefined {
  if (process.getuid?.() === 0) return [];
  const sudo = spawnSync("sudo", ["-n", "true"], { stdio: "ignore" });
  return sudo.status === 0 ? ["sudo", "-n"] : undefined;
}

function runAsRoot(prefix: string[], command: string[], env: Record<string, string> = {}): void {
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const [bin, ...args] = [...prefix, "env", ...envArgs, ...command];
  // apt-get's progress is kept back and shown only when it fails.
  const result = spawnSync(bin as string, args, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(
      `installing failed (exit ${result.status ?? result.signal}):\n${result.stdout}${result.stderr}`.trim(),
    );
  }
}

/**
 * A shell script run as root around `apt-get install`: Debian's PostgreSQL packages would create a
 * `main` cluster and start it on 5432, and service packages (redis-server, pgbouncer) would start
 * their daemons on their default ports. The project runs its own servers on its own ports, so the
 * cluster is never created and, while installing, services are kept from starting unless the
 * machine already has a policy of its own.
 */
const INSTALL_SCRIPT = `set -e
case " $* " in *" postgresql-15 "*)
  if ! grep -qs '^create_main_cluster *= *false' /etc/postgresql-common/createcluster.conf; then
  mkdir -p /etc/postgresql-common
  echo 'create_main_cluster = false' >> /etc/postgresql-common/createcluster.conf
  fi;;
esac
policy=/usr/sbin/policy-rc.d
ours=
if [ ! -e "$policy" ]; then printf '#!/bin/sh\\nexit 101\\n' > "$policy"; chmod 755 "$policy"; ours=1; fi
trap '[ -n "$ours" ] && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "$@"
`;

/** What {@link ensureSystemPackages} reads of the machine; tests pass their own. */
export interface Machine {
  log?: (line: string) => void;
  packages?: readonly SystemPackage[];
  /** The text of /etc/os-release. */
  osRelease?: string;
  /** How to run a command as root (`[]` when root, `["sudo", "-n"]`), undefined when impossible. */
  rootPrefix?: string[] | undefined;
}

/**
 * Installs the system packages `purposes` need and the machine lacks, saying which and why. As root
 * it uses apt-get; otherwise passwordless sudo when that works. Where neither works, or on a system
 * that is not Debian or Ubuntu, it throws with the one command to run by hand.
 */
export function ensureSystemPackages(purposes: readonly Purpose[], machine: Machine = {}): void {
  const log = machine.log ?? ((line: string) => console.error(line));
  const missing = missingPackages(purposes, machine.packages);
  if (missing.length === 0) return;
  const list = missing.map((p) => `  ${p.name.padEnd(24)} ${p.why}`).join("\n");
  if (!/^ID(_LIKE)?=.*\b(debian|ubuntu)\b/m.test(machine.osRelease ?? osRelease())) {
    throw new Error(
      `geoedge needs these packages (named as on Debian/Ubuntu), which this system lacks:\n${list}\nInstall their equivalents with your package manager, then run the command again.`,
    );
  }
  const prefix = "rootPrefix" in machine ? machine.rootPrefix : rootPrefix();
  if (!prefix) {
    throw new Error(
      `geoedge needs these Debian packages, and can install them only as root or with passwordless sudo:\n${list}\nRun this once, then the command again:\n  ${installCommand(missing)}`,
    );
  }
  log(`geoedge: installing Debian packages this machine lacks (once; about a minute):\n${list}`);
  runAsRoot(prefix, ["sh", "-c", INSTALL_SCRIPT, "install", ...missing.map((p) => p.name)], {
    DEBIAN_FRONTEND: "noninteractive",
  });
  const still = missingPackages(purposes, machine.packages);
  if (still.length > 0) {
    throw new Error(`apt-get finished but these are still missing: ${still.map((p) => p.name).join(", ")}`);
  }
}

import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { dirname, join } from "node:path";

/** The process listening on a TCP port, as far as /proc tells. */
export interface PortOwner {
  pid: number;
  command: string;
  /** The geoedge stack directory the process belongs to, when it is one of a stack's processes. */
  stackDir?: string;
}

/** The socket inodes listening on `port` (IPv4 and IPv6). */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT; state 0A is LISTEN; the inode is the tenth column.
      if (cols[1]?.endsWith(`:${hexPort}`) && cols[3] === "0A" && cols[9]) inodes.add(cols[9]);
    }
  }
  return inodes;
}

/** Walks up from `path` to a directory that looks like a geoedge stack's (its state file and token). */
function stackDirAbove(path: string): string | undefined {
  let dir = path;
  for (let i = 0; i < 8 && dir !== dirname(dir); i++, dir = dirname(dir)) {
    const marker = join(dir, "stack-dir");
    if (existsSync(marker)) return readFileSync(marker, "utf8").trim();
    if (existsSync(join(dir, "state.json")) && existsSync(join(dir, "bridge-token"))) return dir;
    if (existsSync(join(dir, ".stack", "state.json"))) return join(dir, ".stack");
  }
  return undefined;
}

/**
 * Which process listens on `port`, and the geoedge stack it belongs to if any (found from its
 * working directory and arguments). Undefined when /proc does not say (another user's process as
 * non-root, or a system without /proc).
 */
export function portOwner(port: number): PortOwner | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  let pids: string[] = [];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    const owns = fds.some((fd) => {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        return target.startsWith("socket:[") && inodes.has(target.slice(8, -1));
      } catch {
        return false;
      }
    });
    if (!owns) continue;
    let args: string[] = [];
    let cwd = "";
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {}
    const paths = [cwd, ...args.filter((a) => a.startsWith("/"))];
    const stackDir = paths.map(stackDirAbove).find((d) => d !== undefined);
    return { pid: Number(pid), command: args.join(" ") || "?", ...(stackDir ? { stackDir } : {}) };
  }
  return undefined;
}

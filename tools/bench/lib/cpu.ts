import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Linux's USER_HZ: /proc reports CPU time in these ticks. */
const TICKS = 100;

interface ProcStat {
  ppid: number;
  /** utime + stime + cutime + cstime: the process and its children already reaped, in ticks. */
  ticks: number;
  cmd: string;
}

/** Every live process's parent and CPU time (Linux; empty elsewhere). */
function scan(): Map<number, ProcStat> {
  const procs = new Map<number, ProcStat>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return procs;
  }
  for (const p of entries) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // After the command: state, ppid, …, utime (14th field of the file), stime, cutime, cstime.
      const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      procs.set(Number(p), {
        ppid: Number(f[1]),
        ticks,
        cmd: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")),
      });
    } catch {
      // The process ended while we looked.
    }
  }
  return procs;
}

/**
 * CPU ticks of `root` and all its live descendants, plus the descendants already reaped (counted in
 * their parents' cutime/cstime): short-lived Postgres backends are not lost.
 */
function treeTicks(procs: Map<number, ProcStat>, root: number): number {
  const children = new Map<number, number[]>();
  for (const [pid, s] of procs) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  let total = 0;
  const stack = [root];
  for (let guard = 0; stack.length > 0 && guard < 100_000; guard++) {
    const pid = stack.pop() as number;
    total += procs.get(pid)?.ticks ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** Busy and total CPU ticks of the whole machine, from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  try {
    const v = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    // idle and iowait are the 4th and 5th numbers.
    return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** Ids of this process's children whose command is `name` (e.g. workerd, started by Miniflare). */
export function childPids(name: string): number[] {
  return [...scan()].filter(([, s]) => s.ppid === process.pid && s.cmd.startsWith(name)).map(([pid]) => pid);
}

/** The local stack's process ids from its state file (see tools/stack/stack.ts). */
export function stackPids(stackDir: string): Record<string, number> {
  try {
    const state = JSON.parse(readFileSync(join(stackDir, "state.json"), "utf8")) as Record<
      string,
      { pid?: number }
    >;
    return Object.fromEntries(Object.entries(state).flatMap(([k, v]) => (v.pid ? [[k, v.pid]] : [])));
  } catch {
    return {};
  }
}

/** The process trees worth watching in a Worker benchmark: workerd (this process's child) and the stack's. */
export function cpuRoots(stackDir: string): Record<string, number> {
  const stack = stackPids(stackDir);
  const roots: Record<string, number> = {};
  // Several workerd processes (a sharded run) are named workerd, workerd#2, …
  for (const [i, pid] of childPids("workerd").entries())
    roots[i === 0 ? "workerd" : `workerd#${i + 1}`] = pid;
  if (stack.postgres) roots.postgres = stack.postgres;
  if (stack.services) roots["proxy+bridge"] = stack.services;
  if (stack.redis) roots.redis = stack.redis;
  return roots;
}

/** Average cores used over a window, by named process tree, by this process, and by the machine. */
export interface CpuUse {
  /** Cores each watched process tree used on average (1.0 = one core busy all the time). */
  cores: Record<string, number>;
  /** Cores the whole machine had busy, whatever ran. */
  machineCores: number;
  /** Cores the machine has. */
  machineSize: number;
}

/**
 * Starts measuring the CPU of named process trees (a name → root pid), of this process (as
 * "bench client") and of the machine; call the result to stop and read it.
 */
export function measureCpu(roots: Record<string, number>): () => CpuUse {
  const before = scan();
  const t0 = Object.fromEntries(Object.entries(roots).map(([k, pid]) => [k, treeTicks(before, pid)]));
  const self0 = process.cpuUsage();
  const m0 = machineTicks();
  const start = performance.now();
  return () => {
    const seconds = (performance.now() - start) / 1000;
    const after = scan();
    const m1 = machineTicks();
    const self = process.cpuUsage(self0);
    const cores: Record<string, number> = {};
    for (const [k, pid] of Object.entries(roots)) {
      cores[k] = (treeTicks(after, pid) - (t0[k] ?? 0)) / TICKS / seconds;
    }
    cores["bench client"] = (self.user + self.system) / 1e6 / seconds;
    const machineSize = Math.round((m1.total - m0.total) / TICKS / seconds);
    return { cores, machineCores: (m1.busy - m0.busy) / TICKS / seconds, machineSize };
  };
}

/** "workerd 0.95, postgres 0.60, …, other 0.10 of 2 cores busy 1.95". */
export function cpuLine(c: CpuUse): string {
  const named = Object.values(c.cores).reduce((a, b) => a + b, 0);
  const parts = Object.entries(c.cores).map(([k, v]) => `${k} ${v.toFixed(2)}`);
  const other = Math.max(0, c.machineCores - named);
  parts.push(`anything else ${other.toFixed(2)}`);
  // Other work on a shared machine takes cores the measured pipeline could have used.
  const shared = other > 0.2 ? "; other work shared the machine" : "";
  return `${parts.join(", ")} (machine: ${c.machineCores.toFixed(2)} of ${c.machineSize} cores busy${shared})`;
}

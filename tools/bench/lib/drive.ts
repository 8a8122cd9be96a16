import { readFileSync } from "node:fs";

/** Throughput and latency of one measured workload. */
export interface Measured {
  queries: number;
  seconds: number;
  qps: number;
  /** Milliseconds. */
  p50: number;
  p99: number;
  /** CPU of a watched process (e.g. Redis) as a share of one core, when one was given. */
  serverCpu?: number;
}

/** CPU seconds a process has used, from /proc (Linux); undefined elsewhere. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of the file, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** The value at quantile `p` of sorted latencies. */
export function quantile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}

/** How long and how hard to drive a workload. */
export interface DriveOptions {
  concurrency: number;
  /** Stops after this many operations… */
  maxOps: number;
  /** …or after this many seconds, whichever comes first. */
  maxSeconds: number;
  /** Untimed operations first (connections, JIT, caches). */
  warmUp?: number;
  /** A process whose CPU to report (Redis, say). */
  watchPid?: number;
}

/**
 * Runs `op(i)` from `concurrency` loops, each with one operation in flight, until `maxOps` have
 * run or `maxSeconds` have passed, and reports throughput and latency percentiles.
 */
export async function drive(op: (i: number) => Promise<unknown>, opts: DriveOptions): Promise<Measured> {
  const warm = opts.warmUp ?? 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(opts.concurrency, Math.max(1, warm)) }, async () => {
      while (next < warm) await op(next++);
    }),
  );
  const latencies = new Float64Array(opts.maxOps);
  let done = 0;
  next = 0;
  const deadline = performance.now() + opts.maxSeconds * 1000;
  const cpuBefore = cpuSeconds(opts.watchPid);
  const start = performance.now();
  const loop = async () => {
    while (next < opts.maxOps && performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      await op(i);
      latencies[done++] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, loop));
  const seconds = (performance.now() - start) / 1000;
  const cpuAfter = cpuSeconds(opts.watchPid);
  const sorted = latencies.subarray(0, done).sort();
  return {
    queries: done,
    seconds,
    qps: done / seconds,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    ...(cpuBefore !== undefined && cpuAfter !== undefined
      ? { serverCpu: (cpuAfter - cpuBefore) / seconds }
      : {}),
  };
}

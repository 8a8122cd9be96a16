import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** The most files a process held open at once while watched, and its limit. */
export interface OpenFiles {
  peak: number;
  /** Of those, SQLite files (a Durable Object's database, `-wal` and `-shm`). */
  peakSqlite: number;
  /** The process's soft RLIMIT_NOFILE, if readable. */
  limit: number | undefined;
}

/** A process's soft limit on open files (Linux), from /proc. */
export function openFilesLimit(pid: number | "self"): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === "unlimited" ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

/**
 * Samples how many files `pid` holds open every `everyMs` until stopped. workerd keeps each live
 * SQLite-backed object's database open, so this is what many objects cost in file descriptors.
 */
export function watchOpenFiles(pid: number | undefined, everyMs = 1000): () => OpenFiles {
  const seen: OpenFiles = { peak: 0, peakSqlite: 0, limit: pid ? openFilesLimit(pid) : undefined };
  const sample = () => {
    if (!pid) return;
    try {
      const fds = readdirSync(`/proc/${pid}/fd`);
      let sqlite = 0;
      for (const fd of fds) {
        try {
          if (readlinkSync(`/proc/${pid}/fd/${fd}`).includes(".sqlite")) sqlite++;
        } catch {
          // Closed between the listing and the look.
        }
      }
      seen.peak = Math.max(seen.peak, fds.length);
      seen.peakSqlite = Math.max(seen.peakSqlite, sqlite);
    } catch {
      // The process is gone.
    }
  };
  const timer = setInterval(sample, everyMs);
  return () => {
    clearInterval(timer);
    sample();
    return seen;
  };
}

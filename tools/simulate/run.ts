import { setTimeout as delay } from "node:timers/promises";
import type { FaultCounts } from "./gps";
import { Fleets, type SimulateOptions } from "./simulation";
import type { Sink, SinkStats } from "./sink";

/** A simulation driven into a sink. */
export interface RunOptions extends SimulateOptions {
  /** Several cities at once (`city` is ignored then); each has `couriers` couriers. */
  cities?: string[];
  sink: Sink;
  /** Simulated time runs this many times faster than wall time; unset runs as fast as possible. */
  speedup?: number;
  /** Where the once-a-second progress line goes (the CLI passes stderr); none when unset. */
  progress?: NodeJS.WriteStream;
  /** Stops generating; what was generated is still flushed. */
  signal?: AbortSignal;
}

/** What a run did. */
export interface RunSummary {
  ticks: number;
  /** Fixes generated (duplicates included), all of them handed to the sink. */
  fixes: number;
  seconds: number;
  fixesPerSec: number;
  faults: FaultCounts;
  sink: SinkStats;
  /** Resident set size at the start, the end and the highest seen (sampled every second), MB. */
  rssStartMb: number;
  rssEndMb: number;
  rssPeakMb: number;
  interrupted: boolean;
}

const mb = () => process.memoryUsage.rss() / 1_048_576;
const int = (n: number) => Math.round(n).toLocaleString("en-US");

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/**
 * Runs the simulation tick by tick into `opts.sink`, paced by `speedup` (or flat out), then closes
 * the sink so every batch has landed or been counted as failed. Memory stays flat: a tick's fixes
 * are dropped once the sink has taken them, and the sink holds at most its batches in flight.
 */
export async function run(opts: RunOptions): Promise<RunSummary> {
  const rssStartMb = mb();
  const fleet = new Fleets(opts);
  const { sink, speedup, progress, signal } = opts;
  const started = performance.now();
  let rssPeakMb = rssStartMb;
  let generated = 0;
  let last = { at: started, fixes: 0 };
  const tty = Boolean(progress?.isTTY);

  const report = (final: boolean) => {
    if (!progress) return;
    const now = performance.now();
    const rss = mb();
    rssPeakMb = Math.max(rssPeakMb, rss);
    const s = sink.stats;
    const rate = ((s.fixes - last.fixes) * 1000) / Math.max(1, now - last.at);
    last = { at: now, fixes: s.fixes };
    const simMs = fleet.timeOf(fleet.ticks) - opts.startMs;
    const parts = [
      `sim ${clock(simMs)}/${clock(fleet.totalTicks * opts.rateMs)}`,
      `${int(s.fixes)} fixes ${sink.kind === "http" ? "sent" : "written"}`,
      `${int(final ? (s.fixes * 1000) / Math.max(1, now - started) : rate)}/s${final ? " average" : ""}`,
    ];
    if (sink.kind === "http") {
      parts.push(
        `accepted ${int(s.accepted)} rejected ${int(s.rejected)}`,
        `in flight ${s.inFlight}`,
        `errors ${int(s.errors)} retries ${int(s.retries)} failed ${int(s.failedFixes)}`,
      );
    }
    if (speedup)
      parts.push(`lag ${Math.max(0, (now - started) / 1000 - simMs / 1000 / speedup).toFixed(1)} s`);
    parts.push(`rss ${Math.round(rss)} MB`);
    const line = parts.join(" | ");
    progress.write(tty ? `\r${line}\x1b[K${final ? "\n" : ""}` : `${line}\n`);
  };

  const timer = progress ? setInterval(() => report(false), 1000) : undefined;
  timer?.unref();
  let interrupted = false;
  try {
    while (!fleet.done) {
      if (signal?.aborted) {
        interrupted = true;
        break;
      }
      if (speedup) {
        const due = started + (fleet.timeOf(fleet.ticks + 1) - opts.startMs) / speedup;
        const wait = due - performance.now();
        if (wait > 0) await delay(wait, undefined, { signal }).catch(() => undefined);
        if (signal?.aborted) continue;
      }
      const tick = fleet.tick();
      generated += tick.fixes.length;
      await sink.write(tick.fixes);
    }
  } finally {
    try {
      await sink.close();
    } finally {
      clearInterval(timer);
      report(true);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const rssEndMb = mb();
  return {
    ticks: fleet.ticks,
    fixes: generated,
    seconds,
    fixesPerSec: generated / seconds,
    faults: { ...fleet.counts },
    sink: { ...sink.stats },
    rssStartMb,
    rssEndMb,
    rssPeakMb: Math.max(rssPeakMb, rssEndMb),
    interrupted,
  };
}

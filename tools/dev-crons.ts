import { Cron } from "croner";

/** The crons of a running `wrangler dev`, fired on their schedules. */
export interface DevCrons {
  /** Runs every cron once, in the order given, and resolves when all have answered. */
  runAll(): Promise<void>;
  stop(): void;
}

/** How long one cron run may take before it is reported as hanging. */
const RUN_TIMEOUT_MS = 120_000;

/**
 * `wrangler dev --test-scheduled` runs a cron only when `/__scheduled?cron=…` is called. This fires
 * each of the Worker's cron strings (from wrangler.toml) on its schedule, in UTC as Cloudflare does,
 * by calling that route, so the provider pull and the profile sync run by themselves locally. A run
 * still going when its next time comes is skipped, not stacked.
 */
export function startDevCrons(base: string, crons: readonly string[], log: (line: string) => void): DevCrons {
  const fire = async (cron: string): Promise<void> => {
    const started = Date.now();
    try {
      const res = await fetch(`${base}/__scheduled?cron=${encodeURIComponent(cron)}`, {
        signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
      });
      await res.body?.cancel();
      if (!res.ok) log(`cron '${cron}' answered ${res.status}; the Worker's log says why`);
    } catch (error) {
      log(`cron '${cron}' did not run: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (Date.now() - started > RUN_TIMEOUT_MS / 2) log(`cron '${cron}' took ${Date.now() - started} ms`);
  };
  const jobs = crons.map((cron) => new Cron(cron, { timezone: "UTC", protect: true }, () => fire(cron)));
  return {
    runAll: async () => {
      for (const cron of crons) await fire(cron);
    },
    stop: () => {
      for (const job of jobs) job.stop();
    },
  };
}

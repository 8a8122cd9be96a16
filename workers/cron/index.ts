import { loadConfig } from "../../src/config";
import { createDb } from "../../src/db/client";
import { pullProvider } from "../../src/events/service";
import { createLogger, errorFields, type Logger } from "../../src/log";
import { runProfileSync } from "../../src/profiles/sync";
import { createRedis } from "../../src/redis/client";
import { databaseScope } from "../../src/redis/keys";
import { removeStaleCouriers } from "../../src/tracking/live";
import { deletePositionsBefore } from "../../src/tracking/repo";

/** A scheduled job; it reports what it did so tests and logs can see it. */
export type CronJob = (env: Env, scheduledTime: number, log: Logger) => Promise<Record<string, unknown>>;

/**
 * Courier housekeeping: removes couriers not seen within the staleness window from the live index,
 * and positions older than the retention from Postgres, both in bounded chunks.
 */
const courierHousekeeping: CronJob = async (env, scheduledTime) => {
  const config = loadConfig(env);
  const redis = createRedis(config);
  const before = scheduledTime - config.courierStaleAfterS * 1000;
  let removed = 0;
  // Chunks keep each call small; the loop is bounded so one run stays inside the subrequest limit.
  for (let round = 0; round < 20; round++) {
    const gone = await removeStaleCouriers(redis, before);
    removed += gone.length;
    if (gone.length === 0) break;
  }
  const handle = createDb(config, 1);
  try {
    const cutoff = new Date(scheduledTime - config.positionsRetentionDays * 86_400_000);
    const retention = await deletePositionsBefore(handle.db, cutoff);
    return { removed, positions_deleted: retention.deleted, positions_left: retention.more };
  } finally {
    await handle.close();
  }
};

/** Applies profile changes from Postgres to the Redis index (and carries on a pending rebuild). */
const profileSync: CronJob = async (env, _time, log) => {
  const config = loadConfig(env);
  const handle = createDb(config, 1);
  try {
    const result = await runProfileSync({ db: handle.db, redis: createRedis(config), log });
    return { ...result };
  } finally {
    await handle.close();
  }
};

/** Pulls the events provider's feed into the catalogue; failures are recorded, never thrown. */
const providerPull: CronJob = async (env, _time, log) => {
  const config = loadConfig(env);
  if (!config.provider.url) return { skipped: "PROVIDER_URL is not set" };
  const handle = createDb(config, 1);
  try {
    const result = await pullProvider(
      { db: handle.db, redis: createRedis(config), log, scope: databaseScope(config.databaseUrl) },
      { url: config.provider.url, timeoutMs: config.provider.timeoutMs },
    );
    return { ...result };
  } finally {
    await handle.close();
  }
};

/** Jobs by the exact cron strings in wrangler.toml. */
export const cronJobs: Record<string, { name: string; run: CronJob }> = {
  "*/5 * * * *": { name: "profile-sync", run: profileSync },
  "* * * * *": { name: "provider-pull", run: providerPull },
  "*/10 * * * *": { name: "courier-housekeeping", run: courierHousekeeping },
};

/** Runs the job registered for `controller.cron`; an unknown cron string is a deployment error. */
export async function handleScheduled(
  controller: ScheduledController,
  env: Env,
): Promise<Record<string, unknown>> {
  const job = cronJobs[controller.cron];
  const log = createLogger("info", { cron: controller.cron });
  if (!job) {
    log.error("no job for cron string");
    throw new Error(`no job registered for cron '${controller.cron}'`);
  }
  const jobLog = log.child({ job: job.name });
  try {
    const result = await job.run(env, controller.scheduledTime, jobLog);
    jobLog.info("cron job done", result);
    return result;
  } catch (error) {
    jobLog.error("cron job failed", errorFields(error));
    throw error;
  }
}

import { loadConfig } from "../../src/config";
import { createDb, type Db, type DbHandle } from "../../src/db/client";
import { createLogger } from "../../src/log";
import { consumeGpsFixes } from "./gps-fixes";
import { consumeNotification } from "./notifications";
import { consumeTrips } from "./trips";

/** What a consumer decided for one message: the policy for each outcome lives here. */
export type ConsumerResult =
  | { outcome: "ack" }
  | { outcome: "retry"; reason: string }
  | { outcome: "poison"; reason: string };

/**
 * I/O shared by the messages of one batch: one Postgres connection, opened on first use and closed
 * when the batch is done, instead of one per message.
 */
export interface BatchIo {
  db(): Db;
}

type Consumer = (body: unknown, env: Env, attempts: number, io: BatchIo) => Promise<ConsumerResult>;

/** Consumers by queue name (the names in wrangler.toml). */
const consumers: Record<string, Consumer> = {
  "geoedge-gps-fixes": consumeGpsFixes,
  "geoedge-notifications": consumeNotification,
  "geoedge-trips": consumeTrips,
};

/** Capped exponential backoff for retried messages, in seconds. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(300, 2 ** Math.max(0, attempts - 1));
}

/**
 * Dispatches a batch by queue and applies one ack/retry policy per message. Poison messages are
 * retried without delay so they reach the dead-letter queue after `max_retries`, instead of being
 * dropped: a human can inspect them there.
 */
export async function handleQueue(batch: MessageBatch, env: Env): Promise<void> {
  const log = createLogger("info", { queue: batch.queue });
  const consumer = consumers[batch.queue];
  let handle: DbHandle | undefined;
  const io: BatchIo = {
    db: () => {
      handle ??= createDb(loadConfig(env), 1);
      return handle.db;
    },
  };
  try {
    for (const message of batch.messages) await settle(message, consumer, env, io, log);
  } finally {
    await handle?.close().catch(() => {});
  }
}

/** Runs one message through its consumer and acks or retries it by the outcome. */
async function settle(
  message: Message,
  consumer: Consumer | undefined,
  env: Env,
  io: BatchIo,
  log: ReturnType<typeof createLogger>,
): Promise<void> {
  let result: ConsumerResult;
  if (!consumer) {
    result = { outcome: "retry", reason: "no consumer for this queue yet" };
  } else {
    try {
      result = await consumer(message.body, env, message.attempts, io);
    } catch (error) {
      result = { outcome: "retry", reason: error instanceof Error ? error.message : String(error) };
    }
  }
  if (result.outcome === "ack") {
    message.ack();
  } else if (result.outcome === "poison") {
    log.error("poison message; sending towards the dead-letter queue", {
      id: message.id,
      reason: result.reason,
    });
    message.retry({ delaySeconds: 0 });
  } else {
    log.warn("message retried", { id: message.id, attempts: message.attempts, reason: result.reason });
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare, type V4WorkerOptions } from "miniflare";
import { unstable_readConfig } from "wrangler";
import { buildBundle, type ServedWorker, serveInTempDir } from "./worker";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

/** How to serve the Worker: vars and secrets, and the write limit the benchmark needs. */
export interface FullWorkerOptions {
  /** Vars and secrets; they override wrangler.toml's `vars` of the same name. */
  bindings: Record<string, string>;
  /** `WRITE_LIMITER`'s requests per minute per key; a benchmark sets it far above what it sends. */
  writeLimitPerMinute?: number;
  /** Where the temporary state directory goes (the OS's temporary directory by default). */
  stateRoot?: string | undefined;
  /** Worker and Miniflare warnings and errors printed in full before only being counted. */
  printedLogs?: number;
}

/** Warnings and errors seen while the Worker ran, counted by message. */
export interface WorkerLogs {
  /** Worker log lines at warn or error, by their `msg` and `error` fields (or first 80 characters). */
  byMessage: Map<string, number>;
  /** Queue messages Miniflare moved to a dead-letter queue. */
  deadLettered: number;
}

/** The production bundle served by workerd with its Durable Objects, queues and rate limiter. */
export interface FullWorker extends ServedWorker {
  logs: WorkerLogs;
}

/**
 * The part of wrangler's parsed configuration read here. Wrangler's own type comes from a package
 * npm did not install next to it, so it would arrive as `any`.
 */
interface WranglerConfig {
  name?: string;
  compatibility_date?: string;
  compatibility_flags: string[];
  vars: Record<string, string>;
  migrations: { new_sqlite_classes?: string[] }[];
  durable_objects: { bindings: { name: string; class_name: string }[] };
  queues: {
    producers?: { binding: string; queue: string }[];
    consumers?: {
      queue: string;
      max_batch_size?: number;
      max_batch_timeout?: number;
      max_retries?: number;
      dead_letter_queue?: string;
      retry_delay?: number;
    }[];
  };
  ratelimits: { name: string; namespace_id: string; simple: { limit: number; period: 10 | 60 } }[];
}

/** Miniflare's own log (the queue broker reports dead-lettered messages through it), counted. */
class CountingLog extends Log {
  constructor(private readonly seen: (level: LogLevel, message: string) => void) {
    super(LogLevel.WARN);
  }

  override logWithLevel(level: LogLevel, message: string): void {
    if (level <= this.level) this.seen(level, message);
  }
}

/**
 * Builds the production bundle (`wrangler deploy --dry-run`) and serves it with Miniflare with the
 * bindings wrangler.toml declares: SQLite-backed Durable Objects, queue producers, queue consumers
 * with their batch size, timeout, retries and dead-letter queues, and the rate limiter. Crons are
 * left out (a cron firing mid-run would add load the benchmark does not measure), and so are the
 * static assets (no measured route serves them). Durable Object and queue state live in a temporary
 * directory that `dispose` removes.
 */
export async function serveFullWorker(opts: FullWorkerOptions): Promise<FullWorker> {
  const logs: WorkerLogs = { byMessage: new Map(), deadLettered: 0 };
  let printed = 0;
  const note = (line: string) => {
    if (printed++ < (opts.printedLogs ?? 5)) process.stderr.write(`  worker: ${line.slice(0, 400)}\n`);
  };
  const served = await serveInTempDir("geoedge-full-", opts.stateRoot, async (dir) => {
    const bundle = join(dir, "bundle");
    await buildBundle(bundle);
    const config: WranglerConfig = unstable_readConfig(
      { config: join(repoRoot, "wrangler.toml") },
      { hideWarnings: true },
    );
    const sqlite = new Set(config.migrations.flatMap((m) => m.new_sqlite_classes ?? []));
    const limit = opts.writeLimitPerMinute ?? 1_000_000_000;
    const worker: V4WorkerOptions = {
      name: config.name ?? "geoedge",
      modules: true,
      scriptPath: join(bundle, "index.js"),
      // Module names are relative to this root, which must contain the script.
      modulesRoot: bundle,
      compatibilityDate: config.compatibility_date ?? "2026-11-01",
      compatibilityFlags: config.compatibility_flags,
      bindings: { ...config.vars, ...opts.bindings },
      durableObjects: Object.fromEntries(
        config.durable_objects.bindings.map((b) => [
          b.name,
          { className: b.class_name, useSQLite: sqlite.has(b.class_name) },
        ]),
      ),
      queueProducers: Object.fromEntries(
        (config.queues.producers ?? []).map((p) => [p.binding, { queueName: p.queue }]),
      ),
      queueConsumers: Object.fromEntries(
        (config.queues.consumers ?? []).map((c) => [
          c.queue,
          {
            maxBatchSize: c.max_batch_size,
            maxBatchTimeout: c.max_batch_timeout,
            maxRetries: c.max_retries,
            deadLetterQueue: c.dead_letter_queue,
            retryDelay: c.retry_delay,
          },
        ]),
      ),
      ratelimits: Object.fromEntries(
        config.ratelimits.map((r) => [
          r.name,
          { namespace_id: r.namespace_id, simple: { limit, period: r.simple.period } },
        ]),
      ),
    };
    return new Miniflare(
      convertV4MiniflareOptions({
        ...worker,
        host: "127.0.0.1",
        port: 0,
        // No Request.cf download from Cloudflare (offline): the placeholder is enough.
        cf: false,
        resourcePersistencePath: join(dir, "state"),
        resourceTmpPath: join(dir, "tmp"),
        log: new CountingLog((_level, message) => {
          if (message.includes("dead letter queue")) logs.deadLettered++;
          note(message);
        }),
        handleStructuredLogs: ({ level, message }) => {
          if (level !== "warn" && level !== "error") return;
          let key = message.slice(0, 80);
          try {
            const line = JSON.parse(message) as { msg?: unknown; error?: unknown; reason?: unknown };
            const why = line.error ?? line.reason;
            key = `${String(line.msg ?? key)}${why === undefined ? "" : ` (${String(why).slice(0, 80)})`}`;
          } catch {
            // Not one of the app's JSON lines (workerd's own): counted by its start.
          }
          logs.byMessage.set(key, (logs.byMessage.get(key) ?? 0) + 1);
          note(message);
        },
      }),
    );
  });
  return { ...served, logs };
}

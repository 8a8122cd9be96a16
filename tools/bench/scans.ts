import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { integer } from "../simulate/flags";
import { ensureStack } from "../stack/stack";
import { appDb, connectionCost, ensureBenchDatabase } from "./lib/bench-pg";
import { benchBindings } from "./lib/bindings";
import { childPids, cpuRoots, measureCpu } from "./lib/cpu";
import { drive } from "./lib/drive";
import { JsonClient, mergeStats, type PostStats, sendBatches } from "./lib/http-json";
import { type OpenFiles, openFilesLimit, watchOpenFiles } from "./lib/open-files";
import { notificationsExact, type ScansReport, scansMarkdown } from "./lib/scans-report";
import { checkNotifications, removeSellers, waitDelivered, waitNotifications } from "./lib/scans-verify";
import { probeStalls } from "./lib/stall-probe";
import { KeepAliveClient } from "./lib/worker";
import { type FullWorker, serveFullWorker, type WorkerLogs } from "./lib/worker-full";

/** The benchmark's options; see `run`. */
export interface ScansOptions {
  sellers: number;
  /** Scans (distinct packages) per seller. */
  scans: number;
  /** Scans per request (a seller's scans always travel together; see `requestBodies`). */
  batch: number;
  concurrency: number;
  /** Sellers per second to offer, at most; 0 sends as fast as the Worker answers. */
  rate: number;
  /** workerd processes the sellers are spread over; 0 picks as few as the open-files limit allows. */
  workers: number;
  /** `SELLER_QUIET_PERIOD_S` for sellers never configured. */
  quiet: number;
  /** Sellers configured first with `PUT /v1/sellers/:id` … */
  configured: number;
  /** … with this quiet period, s. */
  configuredQuiet: number;
  /** Longest wait for the notifications, and again for their delivery, s. */
  deadline: number;
  stateRoot: string | undefined;
}

const DATABASE = "geoedge_bench_scans";
const note = (s: string) => process.stderr.write(`${s}\n`);

function parse(args: string[]): ScansOptions {
  const { values } = parseArgs({
    args,
    options: {
      sellers: { type: "string", default: "10000" },
      scans: { type: "string", default: "10" },
      batch: { type: "string", default: "1000" },
      concurrency: { type: "string", default: "4" },
      rate: { type: "string", default: "0" },
      workers: { type: "string", default: "0" },
      quiet: { type: "string", default: "2" },
      configured: { type: "string", default: "100" },
      "configured-quiet": { type: "string", default: "3" },
      deadline: { type: "string", default: "900" },
      "state-root": { type: "string" },
    },
  });
  const o: ScansOptions = {
    sellers: integer("sellers", values.sellers, 1, 1_000_000),
    scans: integer("scans", values.scans, 1, 1000),
    batch: integer("batch", values.batch, 1, 1000),
    concurrency: integer("concurrency", values.concurrency, 1, 64),
    rate: integer("rate", values.rate, 0, 1_000_000),
    workers: integer("workers", values.workers, 0, 16),
    quiet: integer("quiet", values.quiet, 1, 3600),
    configured: integer("configured", values.configured, 0, 1_000_000),
    configuredQuiet: integer("configured-quiet", values["configured-quiet"], 1, 3600),
    deadline: integer("deadline", values.deadline, 10, 24 * 3600),
    stateRoot: values["state-root"],
  };
  if (o.batch < o.scans) throw new Error(`--batch ${o.batch}: must hold one seller's ${o.scans} scans`);
  return { ...o, configured: Math.min(o.configured, o.sellers) };
}

/** The rows a 503 of `POST /v1/scans` names as not recorded, or undefined if it names none. */
function notRecorded(answer: { status: number; body: string }): Set<number> | undefined {
  if (answer.status !== 503) return undefined;
  try {
    const problem = JSON.parse(answer.body) as { errors?: { field: string; rule: string }[] };
    const rows = (problem.errors ?? [])
      .filter((e) => e.rule === "not_recorded")
      .map((e) => Number(/^body\.scans\.(\d+)$/.exec(e.field)?.[1]));
    return rows.length > 0 && rows.every(Number.isInteger) ? new Set(rows) : undefined;
  } catch {
    return undefined;
  }
}

/** The warnings and errors of several workerd processes, counted together. */
function mergeLogs(all: WorkerLogs[]): WorkerLogs {
  const byMessage = new Map<string, number>();
  for (const logs of all)
    for (const [msg, n] of logs.byMessage) byMessage.set(msg, (byMessage.get(msg) ?? 0) + n);
  return { byMessage, deadLettered: all.reduce((a, l) => a + l.deadLettered, 0) };
}

type ScanBody = { scans: { seller_id: string; package_id: string }[] };

/**
 * Requests of whole sellers: all of a seller's scans travel in one request, so one seller's scans
 * can never straddle a quiet period however slow the Worker gets, and "exactly one notification
 * per seller" is a property of the Worker, not of the benchmark's timing. Within a request the
 * scans are interleaved across sellers, as a warehouse's scanners would send them.
 */
function requestBodies(
  sellerIds: string[],
  packagesOf: (id: string) => string[],
  o: ScansOptions,
): ScanBody[] {
  const perRequest = Math.floor(o.batch / o.scans);
  const bodies: ScanBody[] = [];
  for (let i = 0; i < sellerIds.length; i += perRequest) {
    const group = sellerIds.slice(i, i + perRequest);
    const scans: ScanBody["scans"] = [];
    for (let j = 0; j < o.scans; j++) {
      for (const id of group) scans.push({ seller_id: id, package_id: packagesOf(id)[j] as string });
    }
    bodies.push({ scans });
  }
  return bodies;
}

/**
 * `npm run bench -- scans`: package scans for many sellers through `POST /v1/scans` on workerd
 * (with the SellerDebouncer objects, their alarms and the notifications queue), then waits for one
 * notification per seller and checks every one: exactly the seller's packages, due at the last
 * scan plus its quiet period, stored once. Reports scans/s, how late the alarms fired against their
 * due time, and `GET /ping` as the ceiling. Exits non-zero only when the notifications are not
 * exactly one per seller with exactly its packages.
 */
export async function run(args: string[]): Promise<void> {
  const opts = parse(args);
  const stack = await ensureStack();
  const prefix = `bs${randomBytes(3).toString("hex")}-`;
  const width = Math.max(5, String(opts.sellers).length);
  const sellerIds = Array.from(
    { length: opts.sellers },
    (_, k) => `${prefix}${String(k + 1).padStart(width, "0")}`,
  );
  const packages = new Map(
    sellerIds.map((id) => [id, Array.from({ length: opts.scans }, (_, j) => `${id}.p${j}`).sort()]),
  );
  const configured = new Set(sellerIds.slice(0, opts.configured));
  // workerd keeps each live object's SQLite database open (a database, its -wal and its -shm) and,
  // here, does not close them while the run lasts; one process's open-files limit caps the sellers
  // it can hold, so a large run spreads them over several workerd processes, as Cloudflare spreads
  // objects over machines.
  const filesLimit = openFilesLimit("self");
  const perWorker =
    filesLimit === undefined ? opts.sellers : Math.max(1, Math.floor((filesLimit - 5000) / 3));
  const shards = opts.workers > 0 ? opts.workers : Math.ceil(opts.sellers / perWorker);
  opts.workers = shards;
  if (opts.sellers / shards > perWorker) {
    note(
      `warning: ${Math.ceil(opts.sellers / shards)} sellers per workerd need about ${Math.ceil(opts.sellers / shards) * 3 + 5000} ` +
        `open files, over this process's limit of ${filesLimit}: expect SQLITE_CANTOPEN. Use more --workers.`,
    );
  }
  const shardOf = new Map(sellerIds.map((id, k) => [id, k % shards]));
  const inShard = (i: number) => (id: string) => shardOf.get(id) === i;
  const url = await ensureBenchDatabase(stack, DATABASE);
  const db = appDb(stack, url, 2);
  const workers: FullWorker[] = [];
  const clients: JsonClient[] = [];
  let pinger: KeepAliveClient | undefined;
  let report: ScansReport | undefined;
  try {
    note(
      `building the production bundle and serving it with Miniflare (Durable Objects, queues) in ${shards} workerd process(es)…`,
    );
    const apiKey = `bench_${randomBytes(16).toString("hex")}`;
    for (let i = 0; i < shards; i++) {
      workers.push(
        await serveFullWorker({
          stateRoot: opts.stateRoot,
          bindings: benchBindings(stack, DATABASE, apiKey, ["admin"], {
            SELLER_QUIET_PERIOD_S: String(opts.quiet),
          }),
        }),
      );
    }
    const first = workers[0] as FullWorker;
    pinger = new KeepAliveClient(first.url, 32);
    const ping = await drive(() => (pinger as KeepAliveClient).ok("/ping"), {
      concurrency: 32,
      warmUp: 500,
      maxOps: 20_000,
      maxSeconds: 3,
    });
    note(`GET /ping: ${Math.round(ping.qps)} requests/s`);

    // The requests in flight are shared out between the processes.
    const perClient = Math.max(1, Math.round(opts.concurrency / shards));
    // A long timeout: a request given up on while the Worker still records it would be sent again,
    // and scans resent after their seller's notification went out start a second one.
    for (const w of workers)
      clients.push(new JsonClient(w.url, perClient, { authorization: `Bearer ${apiKey}` }, 600_000));
    const eachShard = (send: (client: JsonClient, i: number) => Promise<PostStats>) =>
      Promise.all(clients.map(send)).then(mergeStats);
    let created = 0;
    const configure = await eachShard((http, i) =>
      sendBatches(
        http,
        "PUT",
        (body) => `/v1/sellers/${body.id}`,
        [...configured]
          .filter(inShard(i))
          .map((id) => ({ id, quiet_period_s: opts.configuredQuiet, webhook_url: null })),
        { concurrency: perClient },
        (answer) => {
          if (answer.status === 201) created++;
          else if (answer.status !== 200)
            note(`  PUT answered ${answer.status}: ${answer.body.slice(0, 300)}`);
        },
      ),
    );

    let lastNote = 0;
    const every = (line: string) => {
      if (Date.now() - lastNote > 2000) {
        lastNote = Date.now();
        note(line);
      }
    };
    let accepted = 0;
    const stopCpu = measureCpu(cpuRoots(stack.dir));
    const stopStalls = probeStalls(first.url);
    const stopFiles = childPids("workerd").map((pid) => watchOpenFiles(pid));
    const scans = await eachShard((http, i) =>
      sendBatches(
        http,
        "POST",
        "/v1/scans",
        requestBodies(sellerIds.filter(inShard(i)), (id) => packages.get(id) ?? [], opts),
        {
          concurrency: perClient,
          maxRetries: 10,
          // A 503 names the rows not recorded: only those go again (the rest count as accepted).
          narrow: (answer, body) => {
            const named = notRecorded(answer);
            if (named === undefined) return body;
            accepted += body.scans.length - named.size;
            return { scans: body.scans.filter((_, i) => named.has(i)) };
          },
          // A seller rate paces the requests (each carries whole sellers); none sends as fast as it can.
          paceMs: opts.rate > 0 ? (Math.floor(opts.batch / opts.scans) / (opts.rate / shards)) * 1000 : 0,
        },
        (answer) => {
          if (answer.status === 202) accepted += (JSON.parse(answer.body) as { accepted: number }).accepted;
          else note(`  POST /v1/scans answered ${answer.status}: ${answer.body.slice(0, 300)}`);
          every(`  ${accepted.toLocaleString("en-US")} scans accepted`);
        },
      ),
    );
    for (const why of scans.failedWhy) note(`  a request of scans was given up after 10 retries: ${why}`);
    note(
      `${accepted.toLocaleString("en-US")} scans in ${((scans.endedAt - scans.startedAt) / 1000).toFixed(1)} s; waiting for notifications…`,
    );
    const reached = await waitNotifications(
      db.pool,
      prefix,
      opts.sellers,
      Date.now() + opts.deadline * 1000,
      (c) => every(`  ${c.toLocaleString("en-US")} notifications`),
    );
    const cpu = stopCpu();
    const stalls = await stopStalls();
    const openFiles = stopFiles
      .map((stop) => stop())
      .reduce<OpenFiles>((a, b) => (b.peak > a.peak ? b : a), { peak: 0, peakSqlite: 0, limit: filesLimit });
    const check = await checkNotifications(
      db.pool,
      prefix,
      (id) => packages.get(id),
      (id) => (configured.has(id) ? opts.configuredQuiet : opts.quiet) * 1000,
      opts.sellers,
    );
    note("waiting for the delivery consumer to mark them stored…");
    const delivered = await waitDelivered(db.pool, prefix, Date.now() + opts.deadline * 1000, (pending) =>
      every(`  ${pending.toLocaleString("en-US")} pending delivery`),
    );
    const connections = { ...(await connectionCost(stack, url, 300, 4)), concurrency: 4 };
    report = {
      opts,
      ping,
      configure: { ...configure, created },
      scans: { ...scans, accepted },
      reached,
      check,
      deliveredAt: delivered.at,
      byStatus: delivered.byStatus,
      cpu,
      stalls,
      openFiles,
      connections,
      logs: mergeLogs(workers.map((w) => w.logs)),
    };
  } finally {
    const deleted = await removeSellers(db.pool, prefix).catch((error: unknown) => {
      note(`cleanup failed: ${String(error)}`);
      return 0;
    });
    note(`cleaned up ${deleted.toLocaleString("en-US")} notifications`);
    for (const c of clients) c.close();
    pinger?.close();
    for (const w of workers) await w.dispose();
    await db.close();
    await stack.stop();
  }
  if (!report) return;
  console.log(scansMarkdown(report));
  if (!notificationsExact(report)) process.exitCode = 1;
}

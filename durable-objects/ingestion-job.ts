import { DurableObject } from "cloudflare:workers";
import { migrateSqlite } from "./sqlite-migrations";

const migrations = [
  `CREATE TABLE job (id INTEGER PRIMARY KEY CHECK (id = 1), job_id TEXT NOT NULL, kind TEXT NOT NULL,
     accepted INTEGER NOT NULL DEFAULT 0, rejected INTEGER NOT NULL DEFAULT 0, sealed INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL, finished_at INTEGER);
   CREATE TABLE chunks (chunk_id TEXT PRIMARY KEY, processed INTEGER NOT NULL, failed INTEGER NOT NULL);
   CREATE TABLE failures (line INTEGER PRIMARY KEY, reason TEXT NOT NULL);`,
];

/** A row that could not be ingested, by its line in the upload. */
export interface RowFailure {
  line: number;
  reason: string;
}

/** Progress of an ingestion job. */
export interface JobStatus {
  jobId: string;
  kind: string;
  status: "receiving" | "running" | "done";
  accepted: number;
  rejected: number;
  processed: number;
  failed: number;
  failures: RowFailure[];
  createdAt: number;
  finishedAt: number | null;
}

const encoder = new TextEncoder();

/**
 * One ingestion job's progress. The edge reports rows as it accepts and queues them, then seals
 * the job; the queue consumer reports each chunk it wrote, keyed by chunk id so a redelivered
 * message counts once. Subscribers get every change as server-sent events until the job is done.
 */
export class IngestionJob extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly subscribers = new Set<ReadableStreamDefaultController<Uint8Array>>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => migrateSqlite(this.sql, migrations));
  }

  /** Opens the job (idempotent). */
  async open(jobId: string, kind: string): Promise<JobStatus> {
    this.sql.exec(
      "INSERT OR IGNORE INTO job (id, job_id, kind, created_at) VALUES (1, ?, ?, ?)",
      jobId,
      kind,
      Date.now(),
    );
    return this.read();
  }

  /** Adds rows accepted and queued by the edge, and the rows it rejected. */
  async accept(accepted: number, rejected: RowFailure[]): Promise<JobStatus> {
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        "UPDATE job SET accepted = accepted + ?, rejected = rejected + ? WHERE id = 1",
        accepted,
        rejected.length,
      );
      for (const f of rejected)
        this.sql.exec("INSERT OR IGNORE INTO failures (line, reason) VALUES (?, ?)", f.line, f.reason);
    });
    return this.changed();
  }

  /** The upload is complete: once every accepted row is processed, the job is done. */
  async seal(): Promise<JobStatus> {
    this.sql.exec("UPDATE job SET sealed = 1 WHERE id = 1");
    return this.changed();
  }

  /** Records one processed chunk; a repeated report of the same chunk changes nothing. */
  async report(chunkId: string, processed: number, failures: RowFailure[]): Promise<JobStatus> {
    this.ctx.storage.transactionSync(() => {
      const cursor = this.sql.exec(
        "INSERT OR IGNORE INTO chunks (chunk_id, processed, failed) VALUES (?, ?, ?)",
        chunkId,
        processed,
        failures.length,
      );
      if (cursor.rowsWritten === 0) return;
      for (const f of failures)
        this.sql.exec("INSERT OR IGNORE INTO failures (line, reason) VALUES (?, ?)", f.line, f.reason);
    });
    return this.changed();
  }

  /** The job's current status, or null for a job never opened. */
  async status(): Promise<JobStatus | null> {
    return this.sql.exec("SELECT 1 FROM job").toArray().length ? this.read() : null;
  }

  /** A stream of server-sent events: the status now, then after every change, closed when done. */
  async subscribe(): Promise<ReadableStream<Uint8Array>> {
    const status = await this.status();
    // Enqueueing never waits for the reader, so a slow subscriber cannot stall the job's updates.
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        controller.enqueue(encoder.encode("retry: 2000\n\n"));
        if (!status) {
          controller.enqueue(encoder.encode('event: error\ndata: {"error":"no such job"}\n\n'));
          controller.close();
          return;
        }
        controller.enqueue(this.event(status));
        if (status.status === "done") controller.close();
        else this.subscribers.add(controller);
      },
      cancel: () => {
        // The subscriber went away; its controller is dropped at the next change.
      },
    });
  }

  private async changed(): Promise<JobStatus> {
    this.sql.exec(
      `UPDATE job SET finished_at = ? WHERE id = 1 AND finished_at IS NULL AND sealed = 1
         AND accepted <= (SELECT coalesce(sum(processed) + sum(failed), 0) FROM chunks)`,
      Date.now(),
    );
    const status = this.read();
    for (const controller of [...this.subscribers]) {
      try {
        controller.enqueue(this.event(status));
        if (status.status === "done") {
          this.subscribers.delete(controller);
          controller.close();
        }
      } catch {
        this.subscribers.delete(controller);
      }
    }
    return status;
  }

  private event(status: JobStatus): Uint8Array {
    const { failures: _failures, ...progress } = status;
    const name = status.status === "done" ? "done" : "progress";
    return encoder.encode(`event: ${name}\ndata: ${JSON.stringify(progress)}\n\n`);
  }

  private read(): JobStatus {
    const j = this.sql
      .exec<{
        job_id: string;
        kind: string;
        accepted: number;
        rejected: number;
        sealed: number;
        created_at: number;
        finished_at: number | null;
      }>("SELECT * FROM job WHERE id = 1")
      .one();
    const totals = this.sql
      .exec<{ processed: number | null; failed: number | null }>(
        "SELECT sum(processed) AS processed, sum(failed) AS failed FROM chunks",
      )
      .one();
    const failures = this.sql
      .exec<{ line: number; reason: string }>("SELECT line, reason FROM failures ORDER BY line LIMIT 1000")
      .toArray();
    return {
      jobId: j.job_id,
      kind: j.kind,
      status: j.finished_at !== null ? "done" : j.sealed ? "running" : "receiving",
      accepted: j.accepted,
      rejected: j.rejected,
      processed: totals.processed ?? 0,
      failed: totals.failed ?? 0,
      failures: failures.map((f) => ({ line: f.line, reason: f.reason })),
      createdAt: j.created_at,
      finishedAt: j.finished_at,
    };
  }
}

import { DurableObject } from "cloudflare:workers";
import { migrateSqlite } from "./sqlite-migrations";

const migrations = [
  `CREATE TABLE job (id INTEGER PRIMARY KEY CHECK (id = 1), job_id TEXT NOT NULL, kind TEXT NOT NULL,
     accepted INTEGER NOT NULL, processed INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
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
  status: "running" | "done";
  accepted: number;
  processed: number;
  failed: number;
  failures: RowFailure[];
  createdAt: number;
  finishedAt: number | null;
}

/**
 * One ingestion job's progress counters. Chunk reports are keyed by chunk id, so a queue message
 * delivered twice is counted once.
 */
export class IngestionJob extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => migrateSqlite(this.sql, migrations));
  }

  /** Opens the job with the number of rows accepted at the edge and the rows rejected there. */
  async open(jobId: string, kind: string, accepted: number, rejected: RowFailure[]): Promise<JobStatus> {
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        "INSERT OR IGNORE INTO job (id, job_id, kind, accepted, failed, created_at) VALUES (1, ?, ?, ?, ?, ?)",
        jobId,
        kind,
        accepted,
        rejected.length,
        Date.now(),
      );
      for (const f of rejected)
        this.sql.exec("INSERT OR IGNORE INTO failures (line, reason) VALUES (?, ?)", f.line, f.reason);
    });
    return this.read();
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
      this.sql.exec(
        "UPDATE job SET processed = processed + ?, failed = failed + ? WHERE id = 1",
        processed,
        failures.length,
      );
      this.sql.exec(
        `UPDATE job SET finished_at = ? WHERE id = 1 AND finished_at IS NULL
         AND (SELECT sum(processed) + sum(failed) FROM chunks) >= accepted`,
        Date.now(),
      );
    });
    return this.read();
  }

  /** The job's current status. */
  async status(): Promise<JobStatus | null> {
    return this.sql.exec("SELECT 1 FROM job").toArray().length ? this.read() : null;
  }

  private read(): JobStatus {
    const j = this.sql
      .exec<{
        job_id: string;
        kind: string;
        accepted: number;
        processed: number;
        failed: number;
        created_at: number;
        finished_at: number | null;
      }>("SELECT * FROM job WHERE id = 1")
      .one();
    const failures = this.sql
      .exec<{ line: number; reason: string }>("SELECT line, reason FROM failures ORDER BY line LIMIT 1000")
      .toArray();
    return {
      jobId: j.job_id,
      kind: j.kind,
      status: j.finished_at === null ? "running" : "done",
      accepted: j.accepted,
      processed: j.processed,
      failed: j.failed,
      failures: failures.map((f) => ({ line: f.line, reason: f.reason })),
      createdAt: j.created_at,
      finishedAt: j.finished_at,
    };
  }
}

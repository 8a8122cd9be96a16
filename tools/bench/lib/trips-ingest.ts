import { sql } from "drizzle-orm";
import type { DbHandle } from "../../../src/db/client";
import { TRIP_CHUNK } from "../../../src/trips/ingest";
import { insertTripChunk } from "../../../src/trips/repo";
import type { TripRow } from "../../../src/trips/rows";
import { loadTrips, tripsCsv } from "../../load/trips";

/** One ingestion contender's figures. */
export interface IngestRun {
  name: string;
  rows: number;
  /** From the first byte sent to the last row in Postgres. */
  seconds: number;
  rowsPerSec: number;
  /** Rows of this contender found in Postgres afterwards. */
  stored: number;
  /** For the HTTP path: when the uploads had all been answered 202, s after the start. */
  acceptedAfter?: number;
}

interface JobStatus {
  status: string;
  accepted: number;
  processed: number;
  failed: number;
}

async function storedRows(db: DbHandle, jobIds: string[]): Promise<number> {
  const result = await db.db.execute<{ n: string }>(
    sql`SELECT count(*)::text AS n FROM trips WHERE job_id = ANY(${sql.param(jobIds)}::text[])`,
  );
  return Number(result.rows[0]?.n ?? 0);
}

/**
 * `POST /v1/trips` with the rows as CSV, split into `uploads` files sent at once, then polls each
 * job until it reports `done` (or the deadline passes); the rows are then counted in Postgres.
 */
export async function ingestOverHttp(
  base: string,
  apiKey: string,
  db: DbHandle,
  rows: TripRow[],
  uploads: number,
  deadlineMs: number,
  note: (s: string) => void,
): Promise<IngestRun> {
  const size = Math.ceil(rows.length / uploads);
  const files = Array.from({ length: uploads }, (_, i) => tripsCsv(rows.slice(i * size, (i + 1) * size)));
  const headers = { authorization: `Bearer ${apiKey}` };
  const t0 = performance.now();
  const jobIds = await Promise.all(
    files.map(async (body) => {
      const res = await fetch(`${base}/v1/trips`, {
        method: "POST",
        headers: { ...headers, "content-type": "text/csv" },
        body,
      });
      const answer = (await res.json()) as { job_id?: string; accepted?: number; rejected_count?: number };
      if (res.status !== 202 || !answer.job_id || answer.rejected_count !== 0) {
        throw new Error(`POST /v1/trips answered ${res.status}: ${JSON.stringify(answer).slice(0, 300)}`);
      }
      return answer.job_id;
    }),
  );
  const acceptedAfter = (performance.now() - t0) / 1000;
  note(`  ${uploads} uploads answered 202 after ${acceptedAfter.toFixed(1)} s; waiting for the jobs…`);
  const deadline = Date.now() + deadlineMs;
  const open = new Set(jobIds);
  let lastNote = 0;
  while (open.size > 0 && Date.now() < deadline) {
    let processed = 0;
    for (const id of [...open]) {
      const res = await fetch(`${base}/v1/ingestion/jobs/${id}`, { headers });
      const status = (await res.json()) as JobStatus;
      if (status.failed > 0) throw new Error(`job ${id} reports failed rows: ${JSON.stringify(status)}`);
      if (status.status === "done") open.delete(id);
      processed += status.processed;
    }
    if (open.size > 0) {
      if (Date.now() - lastNote > 5000) {
        lastNote = Date.now();
        note(`  ${open.size} jobs running, ${processed.toLocaleString("en-US")} rows of those processed`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  if (open.size > 0) note(`  deadline passed with ${open.size} jobs not done`);
  return {
    name: "HTTP → queue → consumer (workerd)",
    rows: rows.length,
    seconds,
    rowsPerSec: rows.length / seconds,
    stored: await storedRows(db, jobIds),
    acceptedAfter,
  };
}

/**
 * The consumer's own write ({@link insertTripChunk}, {@link TRIP_CHUNK} rows a statement) called
 * straight from Node, `connections` chunks at a time: the queue consumer without HTTP, queue,
 * Durable Object and per-message connection.
 */
export async function ingestChunksDirect(
  db: DbHandle,
  rows: TripRow[],
  connections: number,
  resolution: number,
  jobId: string,
): Promise<IngestRun> {
  const chunks: TripRow[][] = [];
  for (let i = 0; i < rows.length; i += TRIP_CHUNK) chunks.push(rows.slice(i, i + TRIP_CHUNK));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++] as TripRow[];
        await insertTripChunk(db.db, jobId, chunk, resolution);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return {
    name: `insertTripChunk from Node, ${TRIP_CHUNK}-row chunks × ${connections} connections`,
    rows: rows.length,
    seconds,
    rowsPerSec: rows.length / seconds,
    stored: await storedRows(db, [jobId]),
  };
}

/** The same rows through the bulk loader (COPY into a stage, one set-based fold). */
export async function ingestBulkCopy(
  db: DbHandle,
  load: Parameters<typeof loadTrips>[0],
): Promise<IngestRun> {
  const summary = await loadTrips(load);
  return {
    name: "bulk COPY + set-based fold (the loader)",
    rows: load.count,
    seconds: summary.seconds,
    rowsPerSec: summary.rowsPerSec,
    stored: await storedRows(db, [summary.jobId]),
  };
}

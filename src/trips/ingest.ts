import { AppError } from "../errors";
import { parseTrip, TRIP_COLUMNS, type TripRow } from "./rows";

/** Rows per queue message: about 75 KB of JSON, under the 128 KB message limit. */
export const TRIP_CHUNK = 500;

/** A rejected row, by its line in the upload (the header is line 1). */
export interface RejectedRow {
  line: number;
  reason: string;
}

/** The body of one message on the trips queue. */
export interface TripChunkMessage {
  v: 1;
  jobId: string;
  chunkId: string;
  rows: TripRow[];
}

type ChunkSink = (rows: TripRow[], rejected: RejectedRow[]) => Promise<void>;

function reasonOf(errors: { field: string; message: string }[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join("; ");
}

/**
 * Reads a CSV upload as it streams in (never the whole body at once), validating each row and
 * handing `sink` a chunk of good rows (with the bad ones seen meanwhile) every {@link TRIP_CHUNK}
 * rows. The header must name the five columns in order.
 */
export async function streamTripsCsv(body: ReadableStream<Uint8Array>, sink: ChunkSink): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  let line = 0;
  let rows: TripRow[] = [];
  let rejected: RejectedRow[] = [];
  const flush = async (force: boolean) => {
    if (rows.length >= TRIP_CHUNK || (force && (rows.length > 0 || rejected.length > 0))) {
      await sink(rows, rejected);
      rows = [];
      rejected = [];
    }
  };
  const take = async (text: string) => {
    line++;
    const clean = text.replace(/\r$/, "");
    if (line === 1) {
      const header = clean.split(",").map((h) => h.trim().toLowerCase());
      if (header.join(",") !== TRIP_COLUMNS.join(",")) {
        throw new AppError("validation_failed", `line 1: the header must be ${TRIP_COLUMNS.join(",")}`, [
          { field: "line.1", rule: "header", message: `must be ${TRIP_COLUMNS.join(",")}` },
        ]);
      }
      return;
    }
    if (clean.trim() === "") return;
    const cells = clean.split(",");
    if (cells.length !== TRIP_COLUMNS.length) {
      rejected.push({ line, reason: `expected ${TRIP_COLUMNS.length} fields, found ${cells.length}` });
      return;
    }
    const fields = Object.fromEntries(TRIP_COLUMNS.map((c, i) => [c, cells[i]])) as Record<
      (typeof TRIP_COLUMNS)[number],
      string
    >;
    const parsed = parseTrip(fields, line);
    if ("errors" in parsed) rejected.push({ line, reason: reasonOf(parsed.errors) });
    else rows.push(parsed.row);
    await flush(false);
  };
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl = buffer.indexOf("\n");
    while (nl >= 0) {
      await take(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf("\n");
    }
  }
  buffer += decoder.decode();
  if (buffer.length > 0) await take(buffer);
  if (line === 0) {
    throw new AppError("validation_failed", "the upload is empty; send a header and rows", [
      { field: "line.1", rule: "header", message: `must be ${TRIP_COLUMNS.join(",")}` },
    ]);
  }
  await flush(true);
}

/** The same for a JSON upload `{"trips": [...]}` with one object per trip; "lines" count from 1. */
export async function chunkTripsJson(trips: unknown[], sink: ChunkSink): Promise<void> {
  let rows: TripRow[] = [];
  let rejected: RejectedRow[] = [];
  for (const [i, item] of trips.entries()) {
    const line = i + 1;
    const o = (item && typeof item === "object" ? item : {}) as Record<string, unknown>;
    const fields = Object.fromEntries(
      TRIP_COLUMNS.map((c) => [c, typeof o[c] === "string" ? o[c] : undefined]),
    ) as Record<(typeof TRIP_COLUMNS)[number], string | undefined>;
    const parsed = parseTrip(fields, line);
    if ("errors" in parsed) rejected.push({ line, reason: reasonOf(parsed.errors) });
    else rows.push(parsed.row);
    if (rows.length >= TRIP_CHUNK) {
      await sink(rows, rejected);
      rows = [];
      rejected = [];
    }
  }
  if (rows.length > 0 || rejected.length > 0) await sink(rows, rejected);
}

import type { FieldError } from "../errors";
import { isGpsgenRecord, parseFixRow } from "./gpsgen";
import { type Fix, type GpsFixesMessage, toFix } from "./schemas";

/** Most fixes one request may carry. */
export const MAX_FIXES_PER_REQUEST = 10_000;
/** How far ahead of the server's clock a fix may be stamped (device clocks drift). */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
/**
 * Bytes of JSON per queue message. Queues cap a message at 128 KB and one `sendBatch` at 256 KB,
 * so messages stay well under half of that to pack several per call.
 */
export const MESSAGE_BYTES = 60_000;
/** Messages per `sendBatch` call (at most 4 × 60 KB, under the 256 KB batch limit). */
export const MESSAGES_PER_SEND = 4;

/** A row that failed validation: `index` counts from 0 in a JSON array, `line` from 1 in NDJSON. */
export interface RejectedFix {
  index?: number;
  line?: number;
  errors: FieldError[];
}

/** The outcome of validating a delivery of fixes. */
export interface ValidatedFixes {
  fixes: Fix[];
  rejected: RejectedFix[];
}

/** Validates each row on its own (a fix, or an old GPS generator's record), so one bad row never sinks the others. */
export function validateFixes(
  rows: { row: unknown; index?: number; line?: number }[],
  now: number,
): ValidatedFixes {
  const fixes: Fix[] = [];
  const rejected: RejectedFix[] = [];
  for (const { row, index, line } of rows) {
    const where = line !== undefined ? `line.${line}` : `fixes.${index}`;
    const at = line !== undefined ? { line } : { index };
    const parsed = parseFixRow(row);
    if (!parsed.success) {
      rejected.push({
        ...at,
        errors: parsed.error.issues.map((i) => ({
          field: [where, ...i.path.map(String)].join("."),
          rule: i.code,
          message: i.message,
        })),
      });
      continue;
    }
    const fix = toFix(parsed.data);
    if (fix.recordedAt > now + MAX_FUTURE_SKEW_MS) {
      rejected.push({
        ...at,
        errors: [
          {
            field: `${where}.${isGpsgenRecord(row) ? "timestamp" : "recorded_at"}`,
            rule: "too_far_in_future",
            message: `must not be more than ${MAX_FUTURE_SKEW_MS / 60_000} minutes ahead of the server clock`,
          },
        ],
      });
      continue;
    }
    fixes.push(fix);
  }
  return { fixes, rejected };
}

/** Splits an NDJSON body into rows; a line that is not JSON becomes a rejected row. */
export function parseNdjson(text: string): {
  rows: { row: unknown; line: number }[];
  rejected: RejectedFix[];
} {
  const rows: { row: unknown; line: number }[] = [];
  const rejected: RejectedFix[] = [];
  text.split("\n").forEach((raw, i) => {
    const trimmed = raw.trim();
    if (!trimmed) return;
    try {
      rows.push({ row: JSON.parse(trimmed), line: i + 1 });
    } catch {
      rejected.push({
        line: i + 1,
        errors: [{ field: `line.${i + 1}`, rule: "invalid_json", message: "is not JSON" }],
      });
    }
  });
  return { rows, rejected };
}

/**
 * Packs fixes into queue messages of at most `maxBytes` of JSON each. Fixes are grouped by courier
 * first, so a message touches few couriers and the consumer makes few object calls per message.
 */
export function packFixes(fixes: Fix[], maxBytes = MESSAGE_BYTES): GpsFixesMessage[] {
  const sorted = [...fixes].sort((a, b) =>
    a.courierId === b.courierId ? a.recordedAt - b.recordedAt : a.courierId < b.courierId ? -1 : 1,
  );
  const messages: GpsFixesMessage[] = [];
  let current: Fix[] = [];
  let bytes = 20;
  for (const fix of sorted) {
    const size = JSON.stringify(fix).length + 1;
    if (current.length > 0 && bytes + size > maxBytes) {
      messages.push({ v: 1, fixes: current });
      current = [];
      bytes = 20;
    }
    current.push(fix);
    bytes += size;
  }
  if (current.length > 0) messages.push({ v: 1, fixes: current });
  return messages;
}

/** Sends messages in `sendBatch` calls under the per-call limits. */
export async function enqueueFixes(queue: Queue, messages: GpsFixesMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += MESSAGES_PER_SEND) {
    await queue.sendBatch(messages.slice(i, i + MESSAGES_PER_SEND).map((body) => ({ body })));
  }
}

import type { FieldError } from "../errors";
import { scanInputSchema } from "./schemas";

/** How far ahead of the server clock a scan may be stamped. */
export const MAX_SCAN_SKEW_MS = 5 * 60_000;

/** Scans grouped by seller, ready for each seller's object. */
export type ScansBySeller = Map<string, { packageId: string; scannedAt: number }[]>;

/**
 * Validates scans one by one (a bad row never sinks the others), stamps missing times with `now`,
 * and groups the good ones by seller. `where(index)` names a row in error messages.
 */
export function validateScans(
  rows: unknown[],
  now: number,
  where: (index: number) => string,
): { bySeller: ScansBySeller; accepted: number; rejected: { index: number; errors: FieldError[] }[] } {
  const bySeller: ScansBySeller = new Map();
  const rejected: { index: number; errors: FieldError[] }[] = [];
  let accepted = 0;
  for (const [index, row] of rows.entries()) {
    const parsed = scanInputSchema.safeParse(row);
    if (!parsed.success) {
      const errors = parsed.error.issues.map((i) => ({
        field: [where(index), ...i.path.map(String)].join("."),
        rule: i.code,
        message: i.message,
      }));
      rejected.push({ index, errors });
      continue;
    }
    const at = parsed.data.scanned_at;
    const scannedAt = at === undefined ? now : typeof at === "number" ? at : Date.parse(at);
    if (scannedAt > now + MAX_SCAN_SKEW_MS) {
      const message = `must not be more than ${MAX_SCAN_SKEW_MS / 60_000} minutes ahead of the server clock`;
      rejected.push({
        index,
        errors: [{ field: `${where(index)}.scanned_at`, rule: "too_far_in_future", message }],
      });
      continue;
    }
    const list = bySeller.get(parsed.data.seller_id) ?? [];
    list.push({ packageId: parsed.data.package_id, scannedAt });
    bySeller.set(parsed.data.seller_id, list);
    accepted++;
  }
  return { bySeller, accepted, rejected };
}

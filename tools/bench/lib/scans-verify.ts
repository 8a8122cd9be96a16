import type { Pool } from "@neondatabase/serverless";
import { quantile } from "./drive";
import { pollUntil } from "./http-json";

/** The run's sellers: `LIKE` with a prefix free of `_` and `%`. */
const RUN_SELLERS = "seller_id LIKE $1 || '%'";

/** What the notifications of one run look like against what was scanned. */
export interface NotificationCheck {
  notifications: number;
  sellers: number;
  /** Sellers with no notification. */
  missing: number;
  /** Notifications beyond one per seller. */
  duplicated: number;
  /** Notifications whose package list is not exactly the seller's packages. */
  wrongPackages: number;
  /** Notifications whose due time is not the last scan plus the seller's quiet period. */
  wrongDue: number;
  /** `created_at - due_at`, ms. */
  late: { p50: number; p99: number; max: number; min: number };
  /** Epoch ms of the first and last `created_at`. */
  firstCreatedAt: number;
  lastCreatedAt: number;
  /** Epoch ms of the earliest `due_at`. */
  firstDueAt: number;
}

/**
 * Polls until `expected` of the run's sellers have a notification or the deadline passes; reports
 * progress. Returns the sellers reached. Sellers, not rows: a seller notified twice must not make
 * up for one not notified yet.
 */
export async function waitNotifications(
  pool: Pool,
  prefix: string,
  expected: number,
  deadlineMs: number,
  progress: (n: number) => void,
): Promise<number> {
  let n = 0;
  await pollUntil(
    async () => {
      const { rows } = await pool.query<{ n: string }>(
        `SELECT count(DISTINCT seller_id) AS n FROM notifications WHERE ${RUN_SELLERS}`,
        [prefix],
      );
      n = Number(rows[0]?.n ?? 0);
      progress(n);
      return n >= expected ? n : undefined;
    },
    deadlineMs,
    500,
  );
  return n;
}

/**
 * Checks every notification of the run: one per seller, listing exactly that seller's packages,
 * due at its last scan plus its quiet period; and how late each was stored against its due time.
 */
export async function checkNotifications(
  pool: Pool,
  prefix: string,
  packagesOf: (sellerId: string) => string[] | undefined,
  quietMsOf: (sellerId: string) => number,
  sellers: number,
): Promise<NotificationCheck> {
  const { rows } = await pool.query<{
    seller_id: string;
    package_ids: string[];
    due: string;
    created: string;
    last_scan: string;
  }>(
    `SELECT seller_id, package_ids,
            (extract(epoch FROM due_at) * 1000)::float8 AS due,
            (extract(epoch FROM created_at) * 1000)::float8 AS created,
            (extract(epoch FROM last_scan_at) * 1000)::float8 AS last_scan
     FROM notifications WHERE ${RUN_SELLERS}`,
    [prefix],
  );
  const perSeller = new Map<string, number>();
  let wrongPackages = 0;
  let wrongDue = 0;
  const late = new Float64Array(rows.length);
  let firstCreatedAt = Number.POSITIVE_INFINITY;
  let lastCreatedAt = 0;
  let firstDueAt = Number.POSITIVE_INFINITY;
  rows.forEach((r, i) => {
    perSeller.set(r.seller_id, (perSeller.get(r.seller_id) ?? 0) + 1);
    const want = packagesOf(r.seller_id);
    const got = [...r.package_ids].sort();
    if (!want || want.length !== got.length || want.some((p, k) => p !== got[k])) wrongPackages++;
    // Timestamps are stored to the microsecond and scans are stamped in milliseconds: compare in ms.
    if (Math.round(Number(r.due) - Number(r.last_scan)) !== quietMsOf(r.seller_id)) wrongDue++;
    const created = Number(r.created);
    const due = Number(r.due);
    late[i] = created - due;
    firstCreatedAt = Math.min(firstCreatedAt, created);
    lastCreatedAt = Math.max(lastCreatedAt, created);
    firstDueAt = Math.min(firstDueAt, due);
  });
  late.sort();
  return {
    notifications: rows.length,
    sellers: perSeller.size,
    missing: sellers - perSeller.size,
    duplicated: rows.length - perSeller.size,
    wrongPackages,
    wrongDue,
    late: {
      p50: quantile(late, 0.5),
      p99: quantile(late, 0.99),
      max: late.length ? (late[late.length - 1] as number) : Number.NaN,
      min: late.length ? (late[0] as number) : Number.NaN,
    },
    firstCreatedAt,
    lastCreatedAt,
    firstDueAt,
  };
}

/** How long the pending count may stand still before delivery is taken to have stopped. */
const DELIVERY_IDLE_MS = 60_000;

/**
 * Polls until every notification of the run has left `pending` (the delivery consumer marks them
 * `stored` when the seller has no webhook), the deadline passes, or nothing moved for a minute.
 * Returns the epoch ms at which none was pending, or undefined, and the counts by status.
 */
export async function waitDelivered(
  pool: Pool,
  prefix: string,
  deadlineMs: number,
  progress: (pending: number) => void,
): Promise<{ at: number | undefined; byStatus: Record<string, number> }> {
  let byStatus: Record<string, number> = {};
  let last = -1;
  let since = Date.now();
  let stalled = false;
  const at = await pollUntil(
    async () => {
      if (stalled) return Number.NaN;
      const { rows } = await pool.query<{ status: string; n: string }>(
        `SELECT status, count(*) AS n FROM notifications WHERE ${RUN_SELLERS} GROUP BY status`,
        [prefix],
      );
      byStatus = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
      const pending = byStatus.pending ?? 0;
      progress(pending);
      if (pending === 0) return Date.now();
      if (pending !== last) {
        last = pending;
        since = Date.now();
      } else if (Date.now() - since > DELIVERY_IDLE_MS) {
        stalled = true;
      }
      return undefined;
    },
    deadlineMs,
    1000,
  );
  return { at: at === undefined || Number.isNaN(at) ? undefined : at, byStatus };
}

/** Deletes the run's notifications and sellers. */
export async function removeSellers(pool: Pool, prefix: string): Promise<number> {
  const n = await pool.query(`DELETE FROM notifications WHERE ${RUN_SELLERS}`, [prefix]);
  await pool.query("DELETE FROM sellers WHERE id LIKE $1 || '%'", [prefix]);
  return n.rowCount ?? 0;
}

import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../src/config";
import { createDb } from "../src/db/client";
import { createLogger, rootMessage } from "../src/log";
import { insertNotification } from "../src/notifications/repo";
import type { DebounceSettings, NotificationMessage, SellerNotification } from "../src/notifications/schemas";
import { backoffMs, migrateSqlite } from "./sqlite-migrations";

const migrations = [
  `CREATE TABLE pending (package_id TEXT PRIMARY KEY, scanned_at INTEGER NOT NULL);
   CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), seller_id TEXT NOT NULL, quiet_ms INTEGER NOT NULL,
     max_wait_ms INTEGER, first_scan_at INTEGER, last_scan_at INTEGER, next_seq INTEGER NOT NULL DEFAULT 1);
   CREATE TABLE outbox (seq INTEGER PRIMARY KEY, body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER NOT NULL, last_error TEXT);`,
];

/** A package scan handed to the debouncer. */
export interface Scan {
  packageId: string;
  scannedAt: number;
}

/** What the seller is waiting for. */
export interface PendingView {
  packageIds: string[];
  firstScanAt: number | null;
  lastScanAt: number | null;
  dueAt: number | null;
  /** Notifications sealed but not yet stored and queued (non-zero only while Postgres or the queue fails). */
  undelivered: number;
}

interface Meta extends Record<string, SqlStorageValue> {
  seller_id: string;
  quiet_ms: number;
  max_wait_ms: number | null;
  first_scan_at: number | null;
  last_scan_at: number | null;
  next_seq: number;
}

/**
 * One seller's debounce timer. Scanned packages wait in SQLite; the alarm, set for the last scan
 * plus the quiet period (or the first scan plus the maximum wait, if sooner), seals them into one
 * notification. Sealing moves the packages into an outbox in the same transaction that empties the
 * pending set, so a scan arriving afterwards starts the next notification. The outbox row is then
 * stored in Postgres and queued for delivery; a failure keeps it and retries with backoff. The
 * notification id is the seller id and a sequence number, so a repeated alarm stores nothing twice.
 */
export class SellerDebouncer extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** The clock; tests replace it (through `runInDurableObject`) to play out hours in an instant. */
  clock: () => number = () => Date.now();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => migrateSqlite(this.sql, migrations));
  }

  /** Sets the seller's quiet period and maximum wait; applies to the pending window too. */
  async configure(sellerId: string, settings: DebounceSettings): Promise<PendingView> {
    this.sql.exec(
      `INSERT INTO meta (id, seller_id, quiet_ms, max_wait_ms) VALUES (1, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET quiet_ms = excluded.quiet_ms, max_wait_ms = excluded.max_wait_ms`,
      sellerId,
      settings.quietMs,
      settings.maxWaitMs,
    );
    await this.rearm();
    return this.view();
  }

  /**
   * Adds scans (a package already pending is kept once, with its first scan time) and restarts the
   * quiet-period clock. `defaults` apply only to a seller never configured.
   */
  async scan(sellerId: string, scans: Scan[], defaults: DebounceSettings): Promise<PendingView> {
    if (scans.length === 0) return this.view();
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        "INSERT OR IGNORE INTO meta (id, seller_id, quiet_ms, max_wait_ms) VALUES (1, ?, ?, ?)",
        sellerId,
        defaults.quietMs,
        defaults.maxWaitMs,
      );
      for (const s of scans) {
        this.sql.exec(
          "INSERT OR IGNORE INTO pending (package_id, scanned_at) VALUES (?, ?)",
          s.packageId,
          s.scannedAt,
        );
      }
      const times = scans.map((s) => s.scannedAt);
      this.sql.exec(
        `UPDATE meta SET first_scan_at = min(coalesce(first_scan_at, ?1), ?1),
                         last_scan_at = max(coalesce(last_scan_at, ?2), ?2) WHERE id = 1`,
        Math.min(...times),
        Math.max(...times),
      );
    });
    await this.rearm();
    return this.view();
  }

  /** The packages waiting and when their notification is due. */
  async pending(): Promise<PendingView> {
    return this.view();
  }

  override async alarm(): Promise<void> {
    const now = this.clock();
    const due = this.view().dueAt;
    // An alarm may fire for an outbox retry while the pending window is not due yet: seal only when due.
    if (due !== null && due <= now) this.seal(due);
    await this.flushOutbox(now);
    await this.rearm();
  }

  /** Moves the pending set into one outbox notification, atomically. */
  private seal(dueAt: number): void {
    this.ctx.storage.transactionSync(() => {
      const meta = this.meta();
      const ids = this.pendingIds();
      if (!meta || ids.length === 0 || meta.first_scan_at === null || meta.last_scan_at === null) return;
      const notification: SellerNotification = {
        id: `${meta.seller_id}.${meta.next_seq}`,
        sellerId: meta.seller_id,
        packageIds: ids,
        firstScanAt: meta.first_scan_at,
        lastScanAt: meta.last_scan_at,
        dueAt,
      };
      this.sql.exec(
        "INSERT INTO outbox (seq, body, next_attempt_at) VALUES (?, ?, 0)",
        meta.next_seq,
        JSON.stringify(notification),
      );
      this.sql.exec("DELETE FROM pending");
      this.sql.exec(
        "UPDATE meta SET first_scan_at = NULL, last_scan_at = NULL, next_seq = next_seq + 1 WHERE id = 1",
      );
    });
  }

  /** Stores and queues each sealed notification whose turn has come; failures back off. */
  private async flushOutbox(now: number): Promise<void> {
    const rows = this.sql
      .exec<{ seq: number; body: string; attempts: number }>(
        "SELECT seq, body, attempts FROM outbox WHERE next_attempt_at <= ? ORDER BY seq",
        now,
      )
      .toArray();
    if (rows.length === 0) return;
    const config = loadConfig(this.env);
    const handle = createDb(config, 1);
    try {
      for (const row of rows) {
        const notification = JSON.parse(row.body) as SellerNotification;
        try {
          await insertNotification(handle.db, notification);
          const message: NotificationMessage = { v: 1, notificationId: notification.id };
          await this.env.NOTIFICATIONS.send(message);
          this.sql.exec("DELETE FROM outbox WHERE seq = ?", row.seq);
        } catch (error) {
          const attempts = row.attempts + 1;
          this.sql.exec(
            "UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE seq = ?",
            attempts,
            now + backoffMs(attempts),
            rootMessage(error),
            row.seq,
          );
          createLogger(config.logLevel, { object: "SellerDebouncer", notification_id: notification.id }).warn(
            "notification not stored or queued; will retry",
            { attempts, error: rootMessage(error) },
          );
        }
      }
    } finally {
      await handle.close().catch(() => {});
    }
  }

  /** One alarm for both schedules: the pending window's due time and the earliest outbox retry. */
  private async rearm(): Promise<void> {
    const due = this.view().dueAt;
    const retry = this.sql
      .exec<{ at: number | null }>("SELECT min(next_attempt_at) AS at FROM outbox")
      .one().at;
    const next = [due, retry].filter((t): t is number => t !== null);
    if (next.length === 0) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(Math.min(...next));
  }

  private meta(): Meta | undefined {
    return this.sql.exec<Meta>("SELECT * FROM meta WHERE id = 1").toArray()[0];
  }

  private pendingIds(): string[] {
    return this.sql
      .exec<{ package_id: string }>("SELECT package_id FROM pending ORDER BY scanned_at, package_id")
      .toArray()
      .map((r) => r.package_id);
  }

  private view(): PendingView {
    const meta = this.meta();
    const packageIds = this.pendingIds();
    const undelivered = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n;
    if (!meta || packageIds.length === 0 || meta.first_scan_at === null || meta.last_scan_at === null) {
      return { packageIds, firstScanAt: null, lastScanAt: null, dueAt: null, undelivered };
    }
    const quietDue = meta.last_scan_at + meta.quiet_ms;
    const dueAt =
      meta.max_wait_ms === null ? quietDue : Math.min(quietDue, meta.first_scan_at + meta.max_wait_ms);
    return { packageIds, firstScanAt: meta.first_scan_at, lastScanAt: meta.last_scan_at, dueAt, undelivered };
  }
}

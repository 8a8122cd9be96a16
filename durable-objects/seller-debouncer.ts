import { DurableObject } from "cloudflare:workers";
import { migrateSqlite } from "./sqlite-migrations";

const migrations = [
  `CREATE TABLE pending (package_id TEXT PRIMARY KEY, scanned_at INTEGER NOT NULL);
   CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), seller_id TEXT NOT NULL, quiet_ms INTEGER NOT NULL, first_scan_at INTEGER NOT NULL, last_scan_at INTEGER NOT NULL);
   CREATE TABLE outbox (id TEXT PRIMARY KEY, body TEXT NOT NULL, sent INTEGER NOT NULL DEFAULT 0);`,
];

/** A package scan handed to the debouncer. */
export interface Scan {
  packageId: string;
  scannedAt: number;
}

/** The notification the debouncer emits once the seller has been quiet long enough. */
export interface SellerNotification {
  id: string;
  sellerId: string;
  packageIds: string[];
  firstScanAt: number;
  lastScanAt: number;
}

/** What the seller is waiting for. */
export interface PendingView {
  packageIds: string[];
  dueAt: number | null;
}

/**
 * One seller's debounce timer: scanned packages wait in SQLite and the alarm (last scan + quiet
 * period) turns them into one notification. The notification is written to an outbox in the same
 * transaction that clears the pending set, so a repeated alarm re-sends nothing and a scan that
 * arrives during the send starts the next notification.
 */
export class SellerDebouncer extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => migrateSqlite(this.sql, migrations));
  }

  /** Adds scans (a package already pending is kept once) and restarts the quiet-period clock. */
  async scan(sellerId: string, scans: Scan[], quietMs: number): Promise<PendingView> {
    this.ctx.storage.transactionSync(() => {
      for (const s of scans) {
        this.sql.exec(
          "INSERT OR IGNORE INTO pending (package_id, scanned_at) VALUES (?, ?)",
          s.packageId,
          s.scannedAt,
        );
      }
      const last = Math.max(...scans.map((s) => s.scannedAt));
      const first = Math.min(...scans.map((s) => s.scannedAt));
      this.sql.exec(
        `INSERT INTO meta (id, seller_id, quiet_ms, first_scan_at, last_scan_at) VALUES (1, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET quiet_ms = excluded.quiet_ms,
           first_scan_at = min(first_scan_at, excluded.first_scan_at),
           last_scan_at = max(last_scan_at, excluded.last_scan_at)`,
        sellerId,
        quietMs,
        first,
        last,
      );
    });
    const view = this.view();
    if (view.dueAt !== null) await this.ctx.storage.setAlarm(view.dueAt);
    return view;
  }

  /** The packages waiting and when their notification is due. */
  async pending(): Promise<PendingView> {
    return this.view();
  }

  override async alarm(): Promise<void> {
    const due = this.view().dueAt;
    // The clock may have been restarted after this alarm was set: fire only when really due.
    if (due !== null && due > Date.now()) {
      await this.ctx.storage.setAlarm(due);
      return;
    }
    if (due !== null) this.seal();
    await this.sendOutbox();
  }

  /** Moves the pending set into one outbox notification, atomically. */
  private seal(): void {
    this.ctx.storage.transactionSync(() => {
      const meta = this.meta();
      const ids = this.sql
        .exec<{ package_id: string }>("SELECT package_id FROM pending ORDER BY scanned_at, package_id")
        .toArray()
        .map((r) => r.package_id);
      if (!meta || ids.length === 0) return;
      const notification: SellerNotification = {
        id: `${meta.seller_id}:${meta.first_scan_at}:${meta.last_scan_at}:${ids.length}`,
        sellerId: meta.seller_id,
        packageIds: ids,
        firstScanAt: meta.first_scan_at,
        lastScanAt: meta.last_scan_at,
      };
      this.sql.exec(
        "INSERT OR IGNORE INTO outbox (id, body) VALUES (?, ?)",
        notification.id,
        JSON.stringify(notification),
      );
      this.sql.exec("DELETE FROM pending");
      this.sql.exec("DELETE FROM meta");
    });
  }

  /** Hands unsent notifications to the queue; a failure leaves them for the retried alarm. */
  private async sendOutbox(): Promise<void> {
    const unsent = this.sql
      .exec<{ id: string; body: string }>("SELECT id, body FROM outbox WHERE sent = 0")
      .toArray();
    for (const row of unsent) {
      await this.env.NOTIFICATIONS.send(JSON.parse(row.body) as SellerNotification);
      this.sql.exec("UPDATE outbox SET sent = 1 WHERE id = ?", row.id);
    }
  }

  private meta() {
    return this.sql
      .exec<{ seller_id: string; quiet_ms: number; first_scan_at: number; last_scan_at: number }>(
        "SELECT seller_id, quiet_ms, first_scan_at, last_scan_at FROM meta WHERE id = 1",
      )
      .toArray()[0];
  }

  private view(): PendingView {
    const meta = this.meta();
    const packageIds = this.sql
      .exec<{ package_id: string }>("SELECT package_id FROM pending ORDER BY scanned_at, package_id")
      .toArray()
      .map((r) => r.package_id);
    return { packageIds, dueAt: meta && packageIds.length > 0 ? meta.last_scan_at + meta.quiet_ms : null };
  }
}

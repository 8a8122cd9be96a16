import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../src/config";
import { createDb } from "../src/db/client";
import { createLogger, errorFields, rootMessage } from "../src/log";
import { createRedis } from "../src/redis/client";
import { type LiveState, liveStateOf, publishLive } from "../src/tracking/live";
import { insertPositions } from "../src/tracking/repo";
import type { Fix } from "../src/tracking/schemas";
import { backoffMs, migrateSqlite } from "./sqlite-migrations";

const migrations = [
  `CREATE TABLE buffer (
     recorded_at INTEGER PRIMARY KEY,
     lat REAL NOT NULL, lon REAL NOT NULL,
     speed_mps REAL, heading_deg REAL, accuracy_m REAL, state TEXT, task_id TEXT
   );
   CREATE TABLE live (id INTEGER PRIMARY KEY CHECK (id = 1), courier_id TEXT NOT NULL, fix TEXT NOT NULL, last_seen_at INTEGER NOT NULL);
   CREATE TABLE due_work (kind TEXT PRIMARY KEY, due_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT);`,
];

/** How long fixes wait in the buffer so one flush carries many of them. */
const FLUSH_DELAY_MS = 1000;
/** Fixes per flush: one multi-row INSERT stays well under Postgres's parameter limit. */
const FLUSH_BATCH = 1000;

interface BufferRow extends Record<string, SqlStorageValue> {
  recorded_at: number;
  lat: number;
  lon: number;
  speed_mps: number | null;
  heading_deg: number | null;
  accuracy_m: number | null;
  state: string | null;
  task_id: string | null;
}

/** What `record` did with a delivery of fixes. */
export interface RecordResult {
  accepted: number;
  duplicates: number;
}

/** What a flush did, for tests and logs. */
export interface FlushResult {
  flushed: number;
  remaining: number;
  error?: string;
}

/**
 * One courier's durable buffer and live state. Fixes land in SQLite first (so an outage of Redis or
 * Postgres loses nothing) and the alarm flushes them in batches. Alarms may fire more than once;
 * a flush is idempotent because Postgres skips (courier, time) pairs it already has.
 */
export class CourierTrack extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => migrateSqlite(this.sql, migrations));
  }

  /** Buffers fixes of this courier, dropping ones already buffered; schedules a flush. */
  async record(fixes: Fix[]): Promise<RecordResult> {
    let accepted = 0;
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      for (const f of fixes) {
        const cursor = this.sql.exec(
          `INSERT OR IGNORE INTO buffer (recorded_at, lat, lon, speed_mps, heading_deg, accuracy_m, state, task_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          f.recordedAt,
          f.lat,
          f.lon,
          f.speedMps ?? null,
          f.headingDeg ?? null,
          f.accuracyM ?? null,
          f.state ?? null,
          f.taskId ?? null,
        );
        accepted += cursor.rowsWritten;
      }
      const newest = fixes.reduce<Fix | undefined>(
        (a, f) => (!a || f.recordedAt > a.recordedAt ? f : a),
        undefined,
      );
      const current = this.live();
      // Out-of-order fixes never move the live position backwards in time.
      if (newest && (!current || newest.recordedAt >= current.recordedAt)) {
        this.sql.exec(
          "INSERT OR REPLACE INTO live (id, courier_id, fix, last_seen_at) VALUES (1, ?, ?, ?)",
          newest.courierId,
          JSON.stringify(newest),
          now,
        );
      } else if (current) {
        this.sql.exec("UPDATE live SET last_seen_at = ? WHERE id = 1", now);
      }
      if (accepted > 0) this.schedule("flush", now + FLUSH_DELAY_MS);
    });
    await this.rearm();
    return { accepted, duplicates: fixes.length - accepted };
  }

  /** The courier's live state, or null before its first fix. */
  async state(): Promise<LiveState | null> {
    return this.live();
  }

  /** Fixes waiting to be flushed. */
  async pending(): Promise<number> {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM buffer").one().n;
  }

  override async alarm(): Promise<void> {
    // The alarm was set for the earliest row, so that row is due even if the clock says a little less.
    const earliest = this.sql
      .exec<{ due: number | null }>("SELECT min(due_at) AS due FROM due_work")
      .one().due;
    const cutoff = Math.max(Date.now(), earliest ?? 0);
    const due = this.sql
      .exec<{ kind: string; attempts: number }>(
        "SELECT kind, attempts FROM due_work WHERE due_at <= ?",
        cutoff,
      )
      .toArray();
    for (const work of due) {
      if (work.kind === "flush") await this.flush(work.attempts);
    }
    await this.rearm();
  }

  /** Flushes one batch to Postgres and Redis; on failure keeps the buffer and backs off. */
  async flush(attempts = 0): Promise<FlushResult> {
    const rows = this.sql
      .exec<BufferRow>("SELECT * FROM buffer ORDER BY recorded_at LIMIT ?", FLUSH_BATCH)
      .toArray();
    const live = this.live();
    if (rows.length === 0 || !live) {
      this.sql.exec("DELETE FROM due_work WHERE kind = 'flush'");
      return { flushed: 0, remaining: 0 };
    }
    const config = loadConfig(this.env);
    const log = createLogger(config.logLevel, { object: "CourierTrack", courier_id: live.courierId });
    const fixes = rows.map((r) => rowToFix(live.courierId, r));
    const handle = createDb(config, 1);
    try {
      await insertPositions(handle.db, fixes);
      await publishLive(createRedis(config), [live]);
    } catch (error) {
      const attempt = attempts + 1;
      const message = rootMessage(error);
      this.sql.exec(
        "UPDATE due_work SET due_at = ?, attempts = ?, last_error = ? WHERE kind = 'flush'",
        Date.now() + backoffMs(attempt),
        attempt,
        message,
      );
      log.warn("flush failed; buffer kept", { attempt, buffered: rows.length, ...errorFields(error) });
      return { flushed: 0, remaining: await this.pending(), error: message };
    } finally {
      await handle.close().catch(() => {});
    }
    // Delete exactly the rows written: while Postgres was awaited, `record` may have buffered an
    // out-of-order fix older than the last one written, and it must stay for the next flush.
    const written = JSON.stringify(rows.map((r) => r.recorded_at));
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM buffer WHERE recorded_at IN (SELECT value FROM json_each(?))", written);
      const left = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM buffer").one().n;
      if (left > 0)
        this.sql.exec(
          "UPDATE due_work SET due_at = ?, attempts = 0, last_error = NULL WHERE kind = 'flush'",
          Date.now(),
        );
      else this.sql.exec("DELETE FROM due_work WHERE kind = 'flush'");
    });
    return { flushed: rows.length, remaining: await this.pending() };
  }

  private live(): LiveState | null {
    const row = this.sql
      .exec<{ fix: string; last_seen_at: number }>("SELECT fix, last_seen_at FROM live WHERE id = 1")
      .toArray()[0];
    return row ? liveStateOf(JSON.parse(row.fix) as Fix, row.last_seen_at) : null;
  }

  /** Keeps the earlier of an existing schedule and `dueAt`, so new fixes never postpone a flush. */
  private schedule(kind: string, dueAt: number): void {
    this.sql.exec(
      `INSERT INTO due_work (kind, due_at) VALUES (?, ?)
       ON CONFLICT (kind) DO UPDATE SET due_at = min(due_at, excluded.due_at)`,
      kind,
      dueAt,
    );
  }

  /** One alarm, many schedules: the alarm always points at the earliest due row. */
  private async rearm(): Promise<void> {
    const next = this.sql.exec<{ due: number | null }>("SELECT min(due_at) AS due FROM due_work").one().due;
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
  }
}

function rowToFix(courierId: string, r: BufferRow): Fix {
  return {
    courierId,
    recordedAt: r.recorded_at,
    lat: r.lat,
    lon: r.lon,
    speedMps: r.speed_mps ?? undefined,
    headingDeg: r.heading_deg ?? undefined,
    accuracyM: r.accuracy_m ?? undefined,
    state: (r.state ?? undefined) as Fix["state"],
    taskId: r.task_id ?? undefined,
  };
}

import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import type { FeedEvent } from "./feed";

/** Rows per upsert statement. */
const BATCH = 1000;

/** The event's stable public id: a UUID (version 5 layout) derived from (base id, plan id). */
export async function eventId(baseId: string, planId: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-1", new TextEncoder().encode(`geoedge:event:${baseId}:${planId}`)),
  );
  const b = digest.slice(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x50;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** What applying a feed changed that a search could see. */
export interface FeedChanges {
  /** Events new, or with a different title, times, prices, or newly online. */
  changed: number;
  /** Months (`YYYY-MM`) in which a changed event started, before or after the change. */
  months: string[];
  /** Whether a changed event ends before it starts (before or after), so no month bounds it. */
  unordered: boolean;
}

/**
 * Upserts a complete feed's events and reports what changed in a way a search could see.
 * `ever_online` only ever turns true, and events missing from this feed are left as they are: the
 * catalogue keeps everything once sold online. Runs in one transaction so a failure half-way
 * applies nothing.
 */
export async function applyFeed(db: Db, feed: FeedEvent[]): Promise<FeedChanges> {
  const ids = await Promise.all(feed.map((e) => eventId(e.baseId, e.planId)));
  return db.transaction(async (tx) => {
    let changed = 0;
    let unordered = false;
    const months = new Set<string>();
    for (let i = 0; i < feed.length; i += BATCH) {
      const part = feed.slice(i, i + BATCH);
      const col = <T>(f: (e: FeedEvent) => T) => sql.param(part.map(f));
      const rows = sql`unnest(${sql.param(ids.slice(i, i + BATCH))}::uuid[], ${col((e) => e.baseId)}::text[],
          ${col((e) => e.planId)}::text[], ${col((e) => e.title)}::text[], ${col((e) => e.sellMode)}::text[],
          ${col((e) => e.startsAt)}::timestamp[], ${col((e) => e.endsAt)}::timestamp[],
          ${col((e) => e.minPrice)}::numeric[], ${col((e) => e.maxPrice)}::numeric[])
        AS u(id, base_id, plan_id, title, sell_mode, starts_at, ends_at, min_price, max_price)`;
      // Found before writing: new rows, and rows whose searchable fields will differ, with the
      // start month of both versions (a search of a few months is cached per month).
      const diff = await tx.execute<{ n: string; months: string | null; unordered: boolean | null }>(sql`
        SELECT count(DISTINCT u.id)::text AS n,
               string_agg(DISTINCT to_char(v.s, 'YYYY-MM'), ',') FILTER (WHERE v.s <= v.e) AS months,
               bool_or(v.e < v.s) AS unordered
        FROM ${rows}
        LEFT JOIN events e ON e.base_id = u.base_id AND e.plan_id = u.plan_id
        CROSS JOIN LATERAL (VALUES (u.starts_at, u.ends_at), (e.starts_at, e.ends_at)) AS v(s, e)
        WHERE v.s IS NOT NULL
          AND (e.id IS NULL
           OR (e.title, e.starts_at, e.ends_at, e.min_price, e.max_price, e.ever_online)
              IS DISTINCT FROM (u.title, u.starts_at, u.ends_at, u.min_price, u.max_price, e.ever_online OR u.sell_mode = 'online'))`);
      const found = diff.rows[0];
      changed += Number(found?.n ?? 0);
      unordered ||= found?.unordered === true;
      for (const month of found?.months?.split(",") ?? []) months.add(month);
      await tx.execute(sql`
        INSERT INTO events AS e (id, base_id, plan_id, title, sell_mode, starts_at, ends_at, min_price, max_price, ever_online)
        SELECT u.id, u.base_id, u.plan_id, u.title, u.sell_mode, u.starts_at, u.ends_at, u.min_price, u.max_price,
               u.sell_mode = 'online'
        FROM ${rows}
        ON CONFLICT (base_id, plan_id) DO UPDATE SET
          title = excluded.title, sell_mode = excluded.sell_mode, starts_at = excluded.starts_at,
          ends_at = excluded.ends_at, min_price = excluded.min_price, max_price = excluded.max_price,
          ever_online = e.ever_online OR excluded.ever_online, last_seen_at = now()`);
    }
    return { changed, months: [...months].sort(), unordered };
  });
}

/** An event as `/search` returns it. */
export interface SearchRow extends Record<string, unknown> {
  id: string;
  title: string;
  starts_at: string;
  ends_at: string;
  min_price: string | null;
  max_price: string | null;
}

/** Events ever sold online starting at or after `from` and ending at or before `to` (both optional). */
export async function searchEvents(db: Db, from: string | null, to: string | null): Promise<SearchRow[]> {
  const result = await db.execute<SearchRow>(sql`
    SELECT id, title, to_char(starts_at, 'YYYY-MM-DD"T"HH24:MI:SS') AS starts_at,
           to_char(ends_at, 'YYYY-MM-DD"T"HH24:MI:SS') AS ends_at, min_price::text, max_price::text
    FROM events
    WHERE ever_online
      AND (${from}::timestamp IS NULL OR starts_at >= ${from}::timestamp)
      AND (${to}::timestamp IS NULL OR ends_at <= ${to}::timestamp)
    ORDER BY starts_at, id`);
  return result.rows;
}

/** The last provider pull as stored. */
export interface ProviderStatusRow extends Record<string, unknown> {
  last_fetch_at: string | null;
  last_success_at: string | null;
  status: string;
  duration_ms: number | null;
  events_seen: number | null;
  events_changed: number | null;
  skipped: number | null;
  last_error: string | null;
}

/** Records the outcome of one pull (a failure keeps the time of the last success). */
export async function recordPull(
  db: Db,
  p: {
    status: string;
    durationMs: number;
    eventsSeen?: number;
    eventsChanged?: number;
    skipped?: number;
    error?: string;
  },
): Promise<void> {
  const ok = p.status === "ok";
  await db.execute(sql`
    INSERT INTO provider_status (id, last_fetch_at, last_success_at, status, duration_ms, events_seen, events_changed, skipped, last_error)
    VALUES (1, now(), ${ok ? sql`now()` : sql`NULL`}, ${p.status}, ${p.durationMs}, ${p.eventsSeen ?? null}, ${p.eventsChanged ?? null},
            ${p.skipped ?? null}, ${p.error ?? null})
    ON CONFLICT (id) DO UPDATE SET last_fetch_at = now(),
      last_success_at = ${ok ? sql`now()` : sql`provider_status.last_success_at`},
      status = excluded.status, duration_ms = excluded.duration_ms,
      events_seen = coalesce(excluded.events_seen, provider_status.events_seen),
      events_changed = excluded.events_changed, skipped = excluded.skipped, last_error = excluded.last_error`);
}

/** The last pull, or undefined before the first. */
export async function readPullStatus(db: Db): Promise<ProviderStatusRow | undefined> {
  const result = await db.execute<ProviderStatusRow>(sql`
    SELECT to_char(last_fetch_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_fetch_at,
           to_char(last_success_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_success_at,
           status, duration_ms, events_seen, events_changed, skipped, last_error
    FROM provider_status WHERE id = 1`);
  return result.rows[0];
}

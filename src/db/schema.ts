import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { geographyPoint } from "./geography";
import { xid8 } from "./xid8";

/** People, stores or drivers that nearby search finds. `updated_at` drives the incremental Redis sync. */
export const profiles = pgTable(
  "profiles",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    kind: text("kind").notNull().default("store"),
    attributes: jsonb("attributes").$type<Record<string, unknown>>().notNull().default({}),
    location: geographyPoint("location").notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    deletedAt: timestamp("deleted_at", { withTimezone: true, mode: "date" }),
    /**
     * The transaction that last wrote the row, set by a trigger (migrations/0010): the Redis sync's
     * keyset. `0` marks rows a bulk load put into the Redis index itself.
     */
    changeXid: xid8("change_xid").notNull().default(sql`'0'`),
  },
  (t) => [
    index("profiles_location_gist").using("gist", t.location),
    index("profiles_updated_at_idx").on(t.updatedAt),
    index("profiles_change_xid_idx").on(t.changeXid, t.id),
  ],
);

/**
 * Profiles removed from the table with SQL (`DELETE`, or a `TRUNCATE` marker), written by
 * triggers so the Redis sync can take them out of the index too; the API tombstones instead.
 */
export const profileDeletions = pgTable(
  "profile_deletions",
  {
    changeXid: xid8("change_xid").notNull().default(sql`pg_current_xact_id()`),
    id: text("id").notNull(),
    deletedAt: timestamp("deleted_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /** A `TRUNCATE` of the whole table (`id` is empty): the sync rebuilds the index. */
    truncated: boolean("truncated").notNull().default(false),
  },
  (t) => [
    index("profile_deletions_change_xid_idx").on(t.changeXid, t.id),
    index("profile_deletions_deleted_at_idx").on(t.deletedAt),
  ],
);

/**
 * Every GPS fix that reached Postgres. Unique on (courier, recorded time) so a replayed flush is
 * harmless; BRIN on time because rows arrive roughly in time order and retention deletes by time.
 */
export const courierPositions = pgTable(
  "courier_positions",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    courierId: text("courier_id").notNull(),
    recordedAt: timestamp("recorded_at", { withTimezone: true, mode: "date" }).notNull(),
    location: geographyPoint("location").notNull(),
    speedMps: real("speed_mps"),
    headingDeg: real("heading_deg"),
    accuracyM: real("accuracy_m"),
    state: text("state"),
    taskId: text("task_id"),
    receivedAt: timestamp("received_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("courier_positions_courier_time_uq").on(t.courierId, t.recordedAt),
    index("courier_positions_recorded_at_brin").using("brin", t.recordedAt),
  ],
);

/** Sellers who scan packages; their webhook and debounce settings. The secret signs webhooks. */
export const sellers = pgTable("sellers", {
  id: text("id").primaryKey(),
  webhookUrl: text("webhook_url"),
  signingSecret: text("signing_secret").notNull(),
  quietPeriodS: integer("quiet_period_s").notNull(),
  maxWaitS: integer("max_wait_s"),
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/**
 * One notification per quiet period of a seller, listing the packages scanned in it. The id is
 * deterministic (seller and sequence number), so a repeated alarm cannot create a second one.
 */
export const notifications = pgTable(
  "notifications",
  {
    id: text("id").primaryKey(),
    sellerId: text("seller_id").notNull(),
    packageIds: text("package_ids").array().notNull(),
    firstScanAt: timestamp("first_scan_at", { withTimezone: true, mode: "date" }).notNull(),
    lastScanAt: timestamp("last_scan_at", { withTimezone: true, mode: "date" }).notNull(),
    dueAt: timestamp("due_at", { withTimezone: true, mode: "date" }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    deliveredAt: timestamp("delivered_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [index("notifications_seller_created_idx").on(t.sellerId, t.createdAt)],
);

/**
 * Events from the provider's feed, one per (base id, plan id): the same plan id appears under
 * different base events. Times are the provider's local wall-clock time (the feed has no zone).
 * Rows are never deleted: an event that was ever sold online stays searchable after the provider
 * drops it.
 */
export const events = pgTable(
  "events",
  {
    id: uuid("id").primaryKey(),
    baseId: text("base_id").notNull(),
    planId: text("plan_id").notNull(),
    title: text("title").notNull(),
    sellMode: text("sell_mode").notNull(),
    startsAt: timestamp("starts_at", { withTimezone: false, mode: "string" }).notNull(),
    endsAt: timestamp("ends_at", { withTimezone: false, mode: "string" }).notNull(),
    minPrice: numeric("min_price", { precision: 12, scale: 2 }),
    maxPrice: numeric("max_price", { precision: 12, scale: 2 }),
    everOnline: boolean("ever_online").notNull().default(false),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("events_base_plan_uq").on(t.baseId, t.planId),
    index("events_online_starts_idx").on(t.startsAt, t.endsAt).where(sql`ever_online`),
  ],
);

/** The last provider pull, one row: what the admin status route reports. */
export const providerStatus = pgTable("provider_status", {
  id: integer("id").primaryKey(),
  lastFetchAt: timestamp("last_fetch_at", { withTimezone: true, mode: "date" }),
  lastSuccessAt: timestamp("last_success_at", { withTimezone: true, mode: "date" }),
  status: text("status").notNull(),
  durationMs: integer("duration_ms"),
  eventsSeen: integer("events_seen"),
  eventsChanged: integer("events_changed"),
  skipped: integer("skipped"),
  lastError: text("last_error"),
});

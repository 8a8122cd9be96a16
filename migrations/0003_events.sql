CREATE TABLE "events" (
	"id" uuid PRIMARY KEY NOT NULL,
	"base_id" text NOT NULL,
	"plan_id" text NOT NULL,
	"title" text NOT NULL,
	"sell_mode" text NOT NULL,
	"starts_at" timestamp NOT NULL,
	"ends_at" timestamp NOT NULL,
	"min_price" numeric(12, 2),
	"max_price" numeric(12, 2),
	"ever_online" boolean DEFAULT false NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "provider_status" (
	"id" integer PRIMARY KEY NOT NULL,
	"last_fetch_at" timestamp with time zone,
	"last_success_at" timestamp with time zone,
	"status" text NOT NULL,
	"duration_ms" integer,
	"events_seen" integer,
	"events_changed" integer,
	"skipped" integer,
	"last_error" text
);
--> statement-breakpoint
CREATE UNIQUE INDEX "events_base_plan_uq" ON "events" USING btree ("base_id","plan_id");--> statement-breakpoint
CREATE INDEX "events_online_starts_idx" ON "events" USING btree ("starts_at","ends_at") WHERE ever_online;

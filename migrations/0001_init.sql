CREATE TABLE "courier_positions" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "courier_positions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"courier_id" text NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL,
	"location" geography(Point,4326) NOT NULL,
	"speed_mps" real,
	"heading_deg" real,
	"accuracy_m" real,
	"state" text,
	"task_id" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "profiles" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text DEFAULT 'store' NOT NULL,
	"attributes" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"location" geography(Point,4326) NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "courier_positions_courier_time_uq" ON "courier_positions" USING btree ("courier_id","recorded_at");--> statement-breakpoint
CREATE INDEX "courier_positions_recorded_at_brin" ON "courier_positions" USING brin ("recorded_at");--> statement-breakpoint
CREATE INDEX "profiles_location_gist" ON "profiles" USING gist ("location");--> statement-breakpoint
CREATE INDEX "profiles_updated_at_idx" ON "profiles" USING btree ("updated_at");

CREATE TABLE "profile_deletions" (
	"change_xid" "xid8" DEFAULT pg_current_xact_id() NOT NULL,
	"id" text NOT NULL,
	"deleted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"truncated" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
ALTER TABLE "profiles" ADD COLUMN "change_xid" "xid8" DEFAULT '0' NOT NULL;--> statement-breakpoint
CREATE INDEX "profile_deletions_change_xid_idx" ON "profile_deletions" USING btree ("change_xid","id");--> statement-breakpoint
CREATE INDEX "profile_deletions_deleted_at_idx" ON "profile_deletions" USING btree ("deleted_at");--> statement-breakpoint
CREATE INDEX "profiles_change_xid_idx" ON "profiles" USING btree ("change_xid","id");
--> statement-breakpoint
-- Every write to a profile records its transaction in change_xid, the Redis sync's keyset: a
-- transaction below the snapshot's xmin has ended, so rows below it can never appear later behind
-- the sync's position, however long their transaction ran. A session that puts the rows into the
-- Redis index itself (the bulk loader) says so with geoedge.sync_preindexed = on, and its rows get
-- 0, which the sync never reads. An UPDATE that leaves updated_at alone still moves it on.
CREATE FUNCTION profiles_sync_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('geoedge.sync_preindexed', true) = 'on' THEN
    NEW.change_xid := '0'::xid8;
  ELSE
    NEW.change_xid := pg_current_xact_id();
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER profiles_sync_stamp BEFORE INSERT OR UPDATE ON profiles
  FOR EACH ROW EXECUTE FUNCTION profiles_sync_stamp();
--> statement-breakpoint
-- Rows removed with SQL DELETE (the API tombstones instead) are logged for the sync, one statement
-- per DELETE statement however many rows it removed.
CREATE FUNCTION profiles_sync_log_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO profile_deletions (id) SELECT id FROM gone;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER profiles_sync_log_delete AFTER DELETE ON profiles
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION profiles_sync_log_delete();
--> statement-breakpoint
-- TRUNCATE names no rows: a marker tells the sync to rebuild the index (unless the session, the
-- bulk loader with --truncate, empties the index itself).
CREATE FUNCTION profiles_sync_log_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('geoedge.sync_preindexed', true) IS DISTINCT FROM 'on' THEN
    INSERT INTO profile_deletions (id, truncated) VALUES ('', true);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER profiles_sync_log_truncate AFTER TRUNCATE ON profiles
  FOR EACH STATEMENT EXECUTE FUNCTION profiles_sync_log_truncate();

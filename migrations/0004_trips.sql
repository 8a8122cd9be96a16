-- Trips: raw rows, partitioned by year of start so old years can be detached or dropped whole.
-- The primary key makes a replayed chunk insert nothing (job, line), and must hold the partition key.
CREATE TABLE trips (
  job_id text NOT NULL,
  line integer NOT NULL,
  region text NOT NULL,
  origin_lon double precision NOT NULL,
  origin_lat double precision NOT NULL,
  dest_lon double precision NOT NULL,
  dest_lat double precision NOT NULL,
  started_at timestamp NOT NULL,
  datasource text NOT NULL,
  origin_cell text NOT NULL,
  dest_cell text NOT NULL,
  time_bucket smallint NOT NULL,
  week_start date NOT NULL,
  PRIMARY KEY (job_id, line, started_at)
) PARTITION BY RANGE (started_at);
--> statement-breakpoint
CREATE TABLE trips_default PARTITION OF trips DEFAULT;
--> statement-breakpoint
DO $$
BEGIN
  FOR y IN 2010..2035 LOOP
    EXECUTE format('CREATE TABLE trips_%s PARTITION OF trips FOR VALUES FROM (%L) TO (%L)', y, y || '-01-01', (y + 1) || '-01-01');
  END LOOP;
END $$;
--> statement-breakpoint
CREATE INDEX trips_region_week_idx ON trips (region, week_start);
--> statement-breakpoint
CREATE INDEX trips_origin_cell_week_idx ON trips (origin_cell, week_start);
--> statement-breakpoint
-- Rollups: their size follows regions, cells and weeks, never the number of trips.
CREATE TABLE trip_region_weeks (
  region text NOT NULL,
  week_start date NOT NULL,
  trips bigint NOT NULL,
  PRIMARY KEY (region, week_start)
);
--> statement-breakpoint
CREATE TABLE trip_cell_weeks (
  origin_cell text NOT NULL,
  week_start date NOT NULL,
  trips bigint NOT NULL,
  PRIMARY KEY (origin_cell, week_start)
);
--> statement-breakpoint
-- Similar trips: same region, origin cell, destination cell and time-of-day bucket. Coordinate sums
-- give the group's representative (mean) origin and destination.
CREATE TABLE trip_groups (
  region text NOT NULL,
  origin_cell text NOT NULL,
  dest_cell text NOT NULL,
  time_bucket smallint NOT NULL,
  trips bigint NOT NULL,
  sum_origin_lat double precision NOT NULL,
  sum_origin_lon double precision NOT NULL,
  sum_dest_lat double precision NOT NULL,
  sum_dest_lon double precision NOT NULL,
  PRIMARY KEY (region, origin_cell, dest_cell, time_bucket)
);
--> statement-breakpoint
CREATE INDEX trip_groups_region_trips_idx ON trip_groups (region, trips DESC);

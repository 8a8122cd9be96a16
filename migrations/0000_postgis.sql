-- PostGIS first: every later migration may use geography columns.
CREATE EXTENSION IF NOT EXISTS postgis;

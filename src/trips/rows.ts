import { cellToLatLng, latLngToCell } from "h3-js";
import type { FieldError } from "../errors";

/** A validated trip as the queue carries it. */
export interface TripRow {
  line: number;
  region: string;
  originLon: number;
  originLat: number;
  destLon: number;
  destLat: number;
  /** Local wall-clock time as given, `YYYY-MM-DD HH:MM:SS`. */
  startedAt: string;
  datasource: string;
}

/** The CSV header the format requires, in order. */
export const TRIP_COLUMNS = [
  "region",
  "origin_coord",
  "destination_coord",
  "datetime",
  "datasource",
] as const;

const POINT = /^POINT \((-?\d+(?:\.\d+)?) (-?\d+(?:\.\d+)?)\)$/;
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/;
const NAME = /^[\p{L}\p{N} _.'-]{1,64}$/u;

function point(value: string | undefined, field: string, errors: FieldError[]): [number, number] | undefined {
  const m = POINT.exec((value ?? "").trim());
  const lon = Number(m?.[1]);
  const lat = Number(m?.[2]);
  if (!m || Math.abs(lon) > 180 || Math.abs(lat) > 90) {
    errors.push({ field, rule: "point", message: "must be POINT (lon lat) with lon in ±180 and lat in ±90" });
    return undefined;
  }
  return [lon, lat];
}

/** Validates one trip (CSV fields or JSON object values); returns the row or the field errors. */
export function parseTrip(
  fields: Record<(typeof TRIP_COLUMNS)[number], string | undefined>,
  line: number,
): { row: TripRow } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  const region = (fields.region ?? "").trim();
  if (!NAME.test(region))
    errors.push({ field: "region", rule: "name", message: "must be 1-64 letters, digits, spaces or _.'-" });
  const origin = point(fields.origin_coord, "origin_coord", errors);
  const dest = point(fields.destination_coord, "destination_coord", errors);
  const when = (fields.datetime ?? "").trim();
  const m = DATETIME.exec(when);
  const parts = m?.slice(1).map(Number) as number[] | undefined;
  const date = parts
    ? new Date(Date.UTC(parts[0] ?? 0, (parts[1] ?? 1) - 1, parts[2], parts[3], parts[4], parts[5]))
    : null;
  if (
    !parts ||
    !date ||
    date.getUTCDate() !== parts[2] ||
    date.getUTCHours() !== parts[3] ||
    date.getUTCMonth() !== (parts[1] ?? 1) - 1
  ) {
    errors.push({
      field: "datetime",
      rule: "datetime",
      message: "must be a real date and time, YYYY-MM-DD HH:MM:SS",
    });
  }
  const datasource = (fields.datasource ?? "").trim();
  if (!NAME.test(datasource))
    errors.push({
      field: "datasource",
      rule: "name",
      message: "must be 1-64 letters, digits, spaces or _.'-",
    });
  if (errors.length > 0 || !origin || !dest) return { errors };
  return {
    row: {
      line,
      region,
      originLon: origin[0],
      originLat: origin[1],
      destLon: dest[0],
      destLat: dest[1],
      startedAt: when.replace("T", " "),
      datasource,
    },
  };
}

/** Hours per time-of-day bucket: trips starting in the same 3-hour window are alike. */
export const BUCKET_HOURS = 3;

/** The time-of-day bucket (0-7) of a local time. */
export function timeBucket(startedAt: string): number {
  return Math.floor(Number(startedAt.slice(11, 13)) / BUCKET_HOURS);
}

/** The Monday (ISO week start) of a local date, `YYYY-MM-DD`. */
export function isoWeekStart(startedAt: string): string {
  const d = new Date(`${startedAt.slice(0, 10)}T00:00:00Z`);
  const day = (d.getUTCDay() + 6) % 7;
  d.setUTCDate(d.getUTCDate() - day);
  return d.toISOString().slice(0, 10);
}

/** The H3 cells of a trip's origin and destination at `resolution`. */
export function tripCells(row: TripRow, resolution: number): { origin: string; dest: string } {
  return {
    origin: latLngToCell(row.originLat, row.originLon, resolution),
    dest: latLngToCell(row.destLat, row.destLon, resolution),
  };
}

/** The centre of a cell as [lat, lon]. */
export function cellCentre(cell: string): [number, number] {
  return cellToLatLng(cell);
}

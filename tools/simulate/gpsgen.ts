import { GPSGEN_STATES, type GpsgenRecord, type GpsgenState } from "../../src/tracking/gpsgen";
import type { CourierState } from "./fleet";
import type { SimFix } from "./gps";
import type { TextFormat } from "./sink";

/** geoedge's states as the old generator names them; a break (offline), which it lacks, is free. */
const OLD_STATES = {
  ...(Object.fromEntries(Object.entries(GPSGEN_STATES).map(([old, state]) => [state, old])) as Record<
    Exclude<CourierState, "offline">,
    GpsgenState
  >),
  offline: "free",
} satisfies Record<CourierState, GpsgenState>;

/**
 * A fix as the old generator's record: id `CITY:WORKER:TASK` (task 0 while on none), `coord` as
 * [lon, lat], `timestamp` in epoch seconds. The fleet's ids must be the old ones (`gpsgenIds`).
 */
export function toGpsgenRecord(fix: SimFix): GpsgenRecord {
  return {
    id: `${fix.courier_id}:${fix.task_id ?? 0}`,
    state: OLD_STATES[fix.state ?? "free"],
    coord: [fix.lon, fix.lat],
    timestamp: fix.recorded_at / 1000,
  };
}

/** The old generator's JSON document's `metadata`. */
export interface GpsgenMetadata {
  start_date: string;
  end_date: string;
  simulation_type: "batch" | "real_time";
}

/** The document's `metadata` for a run: its start and end (ISO 8601 with +00:00) and its pacing. */
export function gpsgenMetadata(startMs: number, durationMs: number, fast: boolean): GpsgenMetadata {
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "+00:00");
  return {
    start_date: iso(startMs),
    end_date: iso(startMs + durationMs),
    simulation_type: fast ? "batch" : "real_time",
  };
}

/** Indents every line but the first of `text` by `n` spaces. */
const indent = (text: string, n: number) => text.replaceAll("\n", `\n${" ".repeat(n)}`);

/** The old generator's records, one per line (no document around them). */
export const gpsgenLines: TextFormat = {
  head: "",
  item: (fix) => `${JSON.stringify(toGpsgenRecord(fix))}\n`,
  tail: () => "",
};

/**
 * The old generator's JSON document (`-j`): `{"metadata": {...}, "data": [records]}`, streamed, so
 * it is written record by record; byte for byte what `JSON.stringify` would make of it whole, and
 * with `pretty` (`-pj`) what `JSON.stringify(document, null, 2)` would.
 */
export function gpsgenDocument(metadata: GpsgenMetadata, pretty: boolean): TextFormat {
  if (!pretty) {
    return {
      head: `{"metadata":${JSON.stringify(metadata)},"data":[`,
      item: (fix, first) => `${first ? "" : ","}${JSON.stringify(toGpsgenRecord(fix))}`,
      tail: () => "]}\n",
    };
  }
  return {
    head: `{\n  "metadata": ${indent(JSON.stringify(metadata, null, 2), 2)},\n  "data": [`,
    item: (fix, first) =>
      `${first ? "\n" : ",\n"}    ${indent(JSON.stringify(toGpsgenRecord(fix), null, 2), 4)}`,
    tail: (any) => `${any ? "\n  " : ""}]\n}\n`,
  };
}

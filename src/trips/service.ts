import { POLYGON_TO_CELLS_FLAGS, polygonToCellsExperimental } from "h3-js";
import type { Db } from "../db/client";
import { AppError } from "../errors";
import { boxWeeks, regionWeeks, type WeekCount } from "./repo";
import { isoWeekStart } from "./rows";

/** Most cells a box may cover at the configured resolution (a city, not a continent). */
export const MAX_BOX_CELLS = 50_000;

/** How far inside the box a cell must lie to be counted from the rollup alone (about 100 m). */
const EDGE_MARGIN_DEG = 0.001;

/** What a weekly-average question is about. */
export type AverageScope =
  | { region: string }
  | { bbox: { minLon: number; minLat: number; maxLon: number; maxLat: number } };

/** The answer: trips, the weeks they are spread over, and the average. */
export interface WeeklyAverage {
  trips: number;
  weeks: number;
  weekly_average: number;
  from_week: string | null;
  to_week: string | null;
}

function weeksBetween(first: string, last: string): number {
  return (
    Math.round((Date.parse(`${last}T00:00:00Z`) - Date.parse(`${first}T00:00:00Z`)) / (7 * 86_400_000)) + 1
  );
}

/**
 * The number of matching trips divided by the number of ISO weeks in the range: the weeks of `from`
 * to `to` inclusive when given, else from the week of the first to the week of the last matching
 * trip. Computed from rollups (plus, for a box, the raw trips in cells its edge crosses).
 */
export async function weeklyAverage(
  db: Db,
  scope: AverageScope,
  range: { from?: string; to?: string },
  resolution: number,
): Promise<WeeklyAverage> {
  const fromWeek = range.from ? isoWeekStart(`${range.from} 00:00:00`) : null;
  const toWeek = range.to ? isoWeekStart(`${range.to} 00:00:00`) : null;
  if (fromWeek && toWeek && fromWeek > toWeek) {
    throw new AppError("validation_failed", "query.from: must not be after to", [
      { field: "query.from", rule: "before_to", message: "must not be after to" },
    ]);
  }
  let count: WeekCount;
  if ("region" in scope) {
    count = await regionWeeks(db, scope.region, fromWeek, toWeek);
  } else {
    const { minLon, minLat, maxLon, maxLat } = scope.bbox;
    const ring = [
      [minLat, minLon],
      [minLat, maxLon],
      [maxLat, maxLon],
      [maxLat, minLon],
      [minLat, minLon],
    ];
    const overlapping = polygonToCellsExperimental(
      ring,
      resolution,
      POLYGON_TO_CELLS_FLAGS.containmentOverlapping,
    );
    if (overlapping.length > MAX_BOX_CELLS) {
      throw new AppError(
        "validation_failed",
        `query.bbox: covers more than ${MAX_BOX_CELLS} cells; ask per region`,
        [
          {
            field: "query.bbox",
            rule: "max_cells",
            message: `must cover at most ${MAX_BOX_CELLS} cells at resolution ${resolution}`,
          },
        ],
      );
    }
    // Cell edges are arcs, not lines of latitude and longitude: a cell only just inside the box may
    // poke out. Cells wholly inside a box shrunk by a margin are certainly inside; the others that
    // touch the box are settled trip by trip.
    const m = EDGE_MARGIN_DEG;
    const inner = [
      [minLat + m, minLon + m],
      [minLat + m, maxLon - m],
      [maxLat - m, maxLon - m],
      [maxLat - m, minLon + m],
      [minLat + m, minLon + m],
    ];
    const inside = new Set(
      minLat + m < maxLat - m && minLon + m < maxLon - m
        ? polygonToCellsExperimental(inner, resolution, POLYGON_TO_CELLS_FLAGS.containmentFull)
        : [],
    );
    const edge = overlapping.filter((c) => !inside.has(c));
    count = await boxWeeks(db, scope.bbox, [...inside], edge, fromWeek, toWeek);
  }
  const first = fromWeek ?? count.firstWeek;
  const last = toWeek ?? count.lastWeek;
  const weeks = first && last ? weeksBetween(first, last) : 0;
  return {
    trips: count.trips,
    weeks,
    weekly_average: weeks > 0 ? count.trips / weeks : 0,
    from_week: first,
    to_week: last,
  };
}

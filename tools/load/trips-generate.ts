import { TRIP_COLUMNS, type TripRow } from "../../src/trips/rows";
import { CityModel } from "./cities";
import { Rng, rowSeed } from "./random";

/** A region trips can be generated for: its centre, metropolitan radius and share of the trips. */
interface Region {
  lat: number;
  lon: number;
  radiusKm: number;
  /** Relative weight among the regions loaded (bigger cities, more trips). */
  share: number;
}

/**
 * Regions by the name the trips carry. The first three are the regions of the sample upload; the
 * others give a load more regions when asked for.
 */
export const tripRegions: Record<string, Region> = {
  Prague: { lat: 50.0755, lon: 14.4378, radiusKm: 14, share: 34 },
  Turin: { lat: 45.0703, lon: 7.6869, radiusKm: 11, share: 38 },
  Hamburg: { lat: 53.5511, lon: 9.9937, radiusKm: 16, share: 28 },
  Lisbon: { lat: 38.7223, lon: -9.1393, radiusKm: 13, share: 25 },
  Vienna: { lat: 48.2082, lon: 16.3738, radiusKm: 14, share: 30 },
  Barcelona: { lat: 41.3874, lon: 2.1686, radiusKm: 13, share: 35 },
};

/** The regions of the sample upload, loaded unless others are asked for. */
export const DEFAULT_REGIONS = ["Prague", "Turin", "Hamburg"];

/** Data sources with their shares of the trips, as in the sample upload. */
const DATASOURCES: [string, number][] = [
  ["cheap_mobile", 33],
  ["pt_search_app", 20],
  ["bad_diesel_vehicles", 18],
  ["baba_car", 16],
  ["funny_car", 13],
];

/** Relative trips per hour of day on a working day: two commuting peaks and a quiet night. */
const WEEKDAY_HOURS = [
  0.4, 0.25, 0.15, 0.12, 0.2, 0.6, 1.8, 3.6, 4.2, 2.6, 1.8, 1.9, 2.2, 2.0, 1.9, 2.2, 3.0, 4.0, 3.8, 2.6, 1.8,
  1.4, 1.0, 0.7,
];
/** The same on a weekend day: late starts, a broad afternoon, busy evenings. */
const WEEKEND_HOURS = [
  1.0, 0.8, 0.6, 0.4, 0.3, 0.3, 0.5, 0.8, 1.3, 1.9, 2.4, 2.7, 2.9, 2.9, 2.8, 2.7, 2.7, 2.6, 2.5, 2.3, 2.0,
  1.8, 1.6, 1.3,
];
/** Relative trips per day of the week, Monday first. */
const WEEKDAYS = [1.0, 1.02, 1.03, 1.05, 1.12, 0.78, 0.6];

/** Share of trips between two hubs (station, airport, business district…); the rest go anywhere. */
const HUB_SHARE = 0.4;
/** Hubs per region, and how far around its hub a hub trip starts or ends (km, one sigma). */
const HUBS = 24;
const HUB_SIGMA_KM = 0.3;
const KM_PER_DEG = (6371.0088 * Math.PI) / 180;

/** What to generate: `count` trips from row `start` (0 by default), a pure function of the seed. */
export interface TripGenerateOptions {
  count: number;
  seed: number;
  /** Names of {@link tripRegions}; {@link DEFAULT_REGIONS} by default. */
  regions?: string[];
  /** First and last day of the trips, `YYYY-MM-DD`; 2018-01-01 to 2019-12-31 by default. */
  from?: string;
  to?: string;
  start?: number;
  chunkSize?: number;
}

/** Cumulative weights, for drawing an index by binary search. */
function cumulative(weights: number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  for (const [i, w] of weights.entries()) {
    sum += w;
    out[i] = sum;
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / sum;
  return out;
}

function draw(cum: Float64Array, u: number): number {
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((cum[mid] as number) > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

const pad = (n: number) => String(n).padStart(2, "0");
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** One region's model: where trips start and end, and its hubs with their weights. */
interface RegionModel {
  name: string;
  city: CityModel;
  hubs: [number, number][];
  hubWeights: Float64Array;
  kmPerDegLon: number;
}

/**
 * The trip model of a load: regions (with their hubs), the calendar (days weighted by weekday,
 * season and a slow growth) and the hours of a working and a weekend day.
 */
class TripModel {
  readonly regions: RegionModel[];
  private readonly regionWeights: Float64Array;
  private readonly days: { date: string; weekend: boolean }[] = [];
  private readonly dayWeights: Float64Array;
  private readonly weekdayHours = cumulative(WEEKDAY_HOURS);
  private readonly weekendHours = cumulative(WEEKEND_HOURS);
  private readonly datasources = cumulative(DATASOURCES.map(([, w]) => w));

  constructor(seed: number, regionNames: string[], from: string, to: string) {
    if (regionNames.length === 0) throw new Error("name at least one region");
    this.regions = regionNames.map((name, r) => {
      const region = tripRegions[name];
      if (!region) {
        throw new Error(`unknown region '${name}': use some of ${Object.keys(tripRegions).join(", ")}`);
      }
      const city = new CityModel(region, rowSeed(seed, r, 0x7219));
      const rng = new Rng(rowSeed(seed, r, 0x4b5));
      const hubs: [number, number][] = [];
      const weights: number[] = [];
      for (let i = 0; i < HUBS; i++) {
        hubs.push(city.sample(rng));
        weights.push(Math.exp(rng.gauss()));
      }
      return {
        name,
        city,
        hubs,
        hubWeights: cumulative(weights),
        kmPerDegLon: KM_PER_DEG * Math.cos((region.lat * Math.PI) / 180),
      };
    });
    this.regionWeights = cumulative(regionNames.map((n) => tripRegions[n]?.share ?? 1));
    const first = Date.parse(`${from}T00:00:00Z`);
    const last = Date.parse(`${to}T00:00:00Z`);
    if (!(first <= last)) throw new Error(`--from ${from} --to ${to}: not a range of real days`);
    const weights: number[] = [];
    const span = Math.max(1, last - first);
    for (let t = first; t <= last; t += 86_400_000) {
      const d = new Date(t);
      const weekday = (d.getUTCDay() + 6) % 7;
      const dayOfYear = (t - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000;
      // Fewer trips in the winter holidays and August, a few more in spring and autumn; the service
      // grows by about a fifth over the range.
      const season = 1 + 0.12 * Math.cos((2 * Math.PI * (dayOfYear - 120)) / 182.5);
      const growth = 1 + (0.2 * (t - first)) / span;
      this.days.push({ date: d.toISOString().slice(0, 10), weekend: weekday >= 5 });
      weights.push((WEEKDAYS[weekday] as number) * season * growth);
    }
    this.dayWeights = cumulative(weights);
  }

  /** A point near a hub, as [lat, lon]: Gaussian, sigma {@link HUB_SIGMA_KM}. */
  private nearHub(region: RegionModel, hub: number, rng: Rng): [number, number] {
    const [lat, lon] = region.hubs[hub] as [number, number];
    const d = HUB_SIGMA_KM * Math.sqrt(-2 * Math.log(1 - rng.next()));
    const a = 2 * Math.PI * rng.next();
    return [lat + (d * Math.sin(a)) / KM_PER_DEG, lon + (d * Math.cos(a)) / region.kmPerDegLon];
  }

  /** Trip `line`'s fields from its own stream. */
  trip(rng: Rng, line: number): TripRow {
    const region = this.regions[draw(this.regionWeights, rng.next())] as RegionModel;
    let origin: [number, number];
    let dest: [number, number];
    if (rng.next() < HUB_SHARE) {
      const a = draw(region.hubWeights, rng.next());
      let b = draw(region.hubWeights, rng.next());
      if (b === a) b = (a + 1) % region.hubs.length;
      // Half go one way, half come back, so both hubs of a pair are origins.
      const there = rng.next() < 0.5;
      const p = this.nearHub(region, a, rng);
      const q = this.nearHub(region, b, rng);
      [origin, dest] = there ? [p, q] : [q, p];
    } else {
      origin = region.city.sample(rng);
      dest = region.city.sample(rng);
    }
    const day = this.days[draw(this.dayWeights, rng.next())] as { date: string; weekend: boolean };
    const hour = draw(day.weekend ? this.weekendHours : this.weekdayHours, rng.next());
    const second = rng.int(3600);
    const datasource = DATASOURCES[draw(this.datasources, rng.next())]?.[0] as string;
    return {
      line,
      region: region.name,
      originLat: round6(origin[0]),
      originLon: round6(origin[1]),
      destLat: round6(dest[0]),
      destLon: round6(dest[1]),
      startedAt: `${day.date} ${pad(hour)}:${pad(Math.floor(second / 60))}:${pad(second % 60)}`,
      datasource,
    };
  }
}

/** Line of generated row `n`: as if the rows were one CSV upload with its header on line 1. */
export const tripLine = (n: number) => n + 2;

/**
 * Generates synthetic trips in chunks. Row `n` depends only on the seed, the options and `n` (its
 * own PRNG stream), so a run is reproducible, any range can be generated alone and a smaller load
 * is a prefix of a bigger one with the same options. Coordinates are rounded to 1e-6 degrees.
 */
export function* generateTrips(opts: TripGenerateOptions): Generator<TripRow[]> {
  const model = new TripModel(
    opts.seed,
    opts.regions ?? DEFAULT_REGIONS,
    opts.from ?? "2018-01-01",
    opts.to ?? "2019-12-31",
  );
  const chunkSize = opts.chunkSize ?? 10_000;
  const first = opts.start ?? 0;
  const end = first + opts.count;
  const rng = new Rng(0);
  for (let start = first; start < end; start += chunkSize) {
    const size = Math.min(chunkSize, end - start);
    const rows: TripRow[] = new Array(size);
    for (let i = 0; i < size; i++) {
      const n = start + i;
      rows[i] = model.trip(rng.reset(rowSeed(opts.seed, n)), tripLine(n));
    }
    yield rows;
  }
}

/** Trips as the CSV `POST /v1/trips` takes, header first. */
export function tripsCsv(rows: TripRow[], header = true): string {
  const lines = rows.map(
    (r) =>
      `${r.region},POINT (${r.originLon} ${r.originLat}),POINT (${r.destLon} ${r.destLat}),${r.startedAt},${r.datasource}`,
  );
  if (header) lines.unshift(TRIP_COLUMNS.join(","));
  return `${lines.join("\n")}\n`;
}

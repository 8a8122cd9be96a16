import { CityModel, cityNamed } from "./cities";
import { Rng, rowSeed } from "./random";

/** What to generate: `count` rows of `city`, a pure function of `seed`. */
export interface GenerateOptions {
  count: number;
  seed: number;
  city: string;
  /** Rows per chunk (memory stays bounded by one chunk). */
  chunkSize?: number;
  /** First row number (0 by default): a range of a bigger load, identical to the same rows of it. */
  start?: number;
}

/** A chunk of generated profiles, column by column (cheap to ship as SQL arrays or GEOADD args). */
export interface ProfileChunk {
  /** Row number of the first row. */
  start: number;
  ids: string[];
  names: string[];
  kinds: string[];
  /** JSON text of each row's attributes. */
  attributes: string[];
  lat: Float64Array;
  lon: Float64Array;
}

/** Kinds with their shares of the rows, cumulative. */
const KINDS: [string, number][] = [
  ["store", 0.3],
  ["restaurant", 0.52],
  ["person", 0.72],
  ["driver", 0.84],
  ["cafe", 0.9],
  ["pharmacy", 0.96],
  ["warehouse", 1],
];

const SYLLABLES = ["ma", "lu", "ri", "ver", "sol", "cas", "del", "mar", "ol", "ba", "ne", "tor", "al"];
const SUFFIX: Record<string, string[]> = {
  store: ["Market", "Store", "Shop", "Bazaar", "Outlet", "Corner"],
  restaurant: ["Bistro", "Grill", "Kitchen", "Taberna", "Trattoria", "Diner"],
  cafe: ["Café", "Coffee", "Roasters", "Bakery"],
  pharmacy: ["Pharmacy", "Chemist", "Farmacia"],
  warehouse: ["Depot", "Warehouse", "Fulfilment Centre", "Hub"],
};
const FIRST = ["Ana", "Luis", "Marta", "Jorge", "Sofia", "Pablo", "Lucia", "Diego", "Elena", "Omar", "Ines"];
const FIRST_MORE = ["Tom", "Priya", "Chen", "Amara", "Noah", "Lea", "Iker", "Zoe", "Rafael", "Yara", "Hugo"];
const LAST = [
  "Garcia",
  "Smith",
  "Silva",
  "Kowalski",
  "Nguyen",
  "Okafor",
  "Rossi",
  "Dubois",
  "Santos",
  "Lopez",
];
const LAST_MORE = ["Ibarra", "Moreau", "Haddad", "Jensen", "Costa", "Novak", "Tanaka", "Reyes", "Fischer"];
const FIRSTS = [...FIRST, ...FIRST_MORE];
const LASTS = [...LAST, ...LAST_MORE];
const CATEGORIES = ["grocery", "electronics", "clothing", "hardware", "books", "florist", "toys", "sports"];
const CUISINES = ["spanish", "italian", "japanese", "mexican", "indian", "lebanese", "vegan", "burgers"];
const VEHICLES = ["bike", "e-bike", "scooter", "car", "van"];

function brand(rng: Rng): string {
  const word = rng.pick(SYLLABLES) + rng.pick(SYLLABLES) + (rng.next() < 0.4 ? rng.pick(SYLLABLES) : "");
  return word.charAt(0).toUpperCase() + word.slice(1);
}

const rating = (rng: Rng) => Math.round(rng.range(30, 50)) / 10;

/** Name and attributes of a row of `kind`; the draws come after the row's position, from its own stream. */
function describe(kind: string, rng: Rng): [string, Record<string, unknown>] {
  switch (kind) {
    case "person":
      return [`${rng.pick(FIRSTS)} ${rng.pick(LASTS)}`, { verified: rng.next() < 0.7 }];
    case "driver":
      return [
        `${rng.pick(FIRSTS)} ${rng.pick(LASTS).charAt(0)}.`,
        { vehicle: rng.pick(VEHICLES), rating: rating(rng), shifts_per_week: 1 + rng.int(6) },
      ];
    case "restaurant":
      return [
        `${brand(rng)} ${rng.pick(SUFFIX.restaurant as string[])}`,
        { cuisine: rng.pick(CUISINES), rating: rating(rng), price: 1 + rng.int(4) },
      ];
    case "store":
      return [
        `${brand(rng)} ${rng.pick(SUFFIX.store as string[])}`,
        { category: rng.pick(CATEGORIES), rating: rating(rng), open_24h: rng.next() < 0.1 },
      ];
    case "warehouse":
      return [`${brand(rng)} ${rng.pick(SUFFIX.warehouse as string[])}`, { docks: 2 + rng.int(30) }];
    default:
      return [`${brand(rng)} ${rng.pick(SUFFIX[kind] as string[])}`, { rating: rating(rng) }];
  }
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** The id of row `n` of a load seeded with `seed`. */
export const profileId = (seed: number, n: number) => `p-${seed}-${n}`;

/**
 * Generates synthetic profiles in chunks. Row `n` depends only on the seed, the city and `n`
 * (its own PRNG stream), so a run is reproducible and any range can be generated alone.
 * Coordinates are rounded to 1e-6 degrees (about 0.1 m), like real data, and survive every text
 * round trip (SQL, RESP) unchanged.
 */
export function* generateProfiles(opts: GenerateOptions): Generator<ProfileChunk> {
  const model = new CityModel(cityNamed(opts.city), opts.seed);
  const chunkSize = opts.chunkSize ?? 10_000;
  const first = opts.start ?? 0;
  const end = first + opts.count;
  const rng = new Rng(0);
  for (let start = first; start < end; start += chunkSize) {
    const size = Math.min(chunkSize, end - start);
    const chunk: ProfileChunk = {
      start,
      ids: new Array(size),
      names: new Array(size),
      kinds: new Array(size),
      attributes: new Array(size),
      lat: new Float64Array(size),
      lon: new Float64Array(size),
    };
    for (let i = 0; i < size; i++) {
      const n = start + i;
      rng.reset(rowSeed(opts.seed, n));
      const [lat, lon] = model.sample(rng);
      const u = rng.next();
      const kind = (KINDS.find(([, upTo]) => u < upTo) ?? KINDS[0])?.[0] as string;
      const [name, attributes] = describe(kind, rng);
      chunk.ids[i] = profileId(opts.seed, n);
      chunk.names[i] = name;
      chunk.kinds[i] = kind;
      chunk.attributes[i] = JSON.stringify(attributes);
      chunk.lat[i] = round6(lat);
      chunk.lon[i] = round6(lon);
    }
    yield chunk;
  }
}

/**
 * Query points for benchmarks and tests: drawn from the same city distribution as the rows (so
 * searches land where the data is), from a stream of their own that never repeats a row's.
 */
export function queryPoints(city: string, seed: number, count: number, salt = 1): [number, number][] {
  const model = new CityModel(cityNamed(city), seed);
  const rng = new Rng(0);
  const points: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    rng.reset(rowSeed(seed, i, salt));
    const [lat, lon] = model.sample(rng);
    points.push([round6(lat), round6(lon)]);
  }
  return points;
}

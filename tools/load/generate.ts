import { LEGACY_FIELDS, type LegacyField } from "../../src/profiles/legacy";
import { type City, cityNamed } from "../lib/cities";
import { CityModel, WorldModel } from "./cities";
import { Rng, rowSeed } from "./random";

/** Which fields the rows carry: geoedge's mix of kinds, or the old distance service's people. */
export const FIELD_SETS = ["standard", "legacy"] as const;
export type FieldSet = (typeof FIELD_SETS)[number];

/** Where the rows lie: around one city, or over every city of the table. */
export const SPREADS = ["city", "world"] as const;
export type Spread = (typeof SPREADS)[number];

/** What to generate: `count` rows, a pure function of the seed, the spread, the city and the fields. */
export interface GenerateOptions {
  count: number;
  seed: number;
  /** The city of `spread: "city"` (ignored for "world"). */
  city: string;
  /** "city" by default. */
  spread?: Spread;
  /** "standard" by default. */
  fields?: FieldSet;
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

const OCCUPATIONS = [
  "Accountant",
  "Architect",
  "Baker",
  "Civil engineer",
  "Courier",
  "Data analyst",
  "Dentist",
  "Electrician",
  "Farmer",
  "Firefighter",
  "Graphic designer",
  "Journalist",
  "Lawyer",
  "Librarian",
  "Mechanic",
  "Nurse",
  "Pharmacist",
  "Photographer",
  "Pilot",
  "Plumber",
  "Software developer",
  "Surveyor",
  "Teacher",
  "Translator",
  "Veterinarian",
];
const CARD_PROVIDERS = [
  "VISA 16 digit",
  "VISA 13 digit",
  "Mastercard",
  "American Express",
  "Discover",
  "JCB 16 digit",
  "Diners Club / Carte Blanche",
  "Maestro",
];
const DOMAINS = [".com", ".net", ".org", ".io", ".biz"];
/** Dates of birth run over these days: 1950-01-01 to 2005-12-31. */
const BIRTH_FROM_MS = Date.UTC(1950, 0, 1);
const BIRTH_DAYS = (Date.UTC(2005, 11, 31) - BIRTH_FROM_MS) / 86_400_000 + 1;

const digits = (rng: Rng, n: number) => String(rng.int(10 ** n)).padStart(n, "0");

/** A person with the fields the old distance service returned, living in `city`. */
function legacyPerson(city: City, rng: Rng): [string, Record<LegacyField, string>] {
  const first = rng.pick(FIRSTS);
  const last = rng.pick(LASTS);
  const company = brand(rng) + rng.pick(DOMAINS);
  const born = new Date(BIRTH_FROM_MS + rng.int(BIRTH_DAYS) * 86_400_000);
  const values: Record<LegacyField, string> = {
    occupation: rng.pick(OCCUPATIONS),
    company_email: `${first}.${last}@${company}`.toLowerCase(),
    credit_card_provider: rng.pick(CARD_PROVIDERS),
    phone_number: `${city.callingCode} ${digits(rng, 3)} ${digits(rng, 3)} ${digits(rng, 4)}`,
    date_of_birth: born.toISOString().slice(0, 10),
    city: city.name,
    tz: city.tz,
  };
  // In the old field order, whatever order the values were drawn in.
  const attributes = Object.fromEntries(LEGACY_FIELDS.map((f) => [f, values[f]])) as Record<
    LegacyField,
    string
  >;
  return [`${first} ${last}`, attributes];
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** Where rows of a load fall: one city's model, or the world's. */
function placer(
  opts: Pick<GenerateOptions, "seed" | "city" | "spread">,
): (rng: Rng) => { lat: number; lon: number; city: City } {
  if (opts.spread === "world") {
    const world = new WorldModel(opts.seed);
    return (rng) => world.sample(rng);
  }
  const city = cityNamed(opts.city);
  const model = new CityModel(city, opts.seed);
  return (rng) => {
    const [lat, lon] = model.sample(rng);
    return { lat, lon, city };
  };
}

/** The id of row `n` of a load seeded with `seed`. */
export const profileId = (seed: number, n: number) => `p-${seed}-${n}`;

/**
 * The id of row `n` of a legacy load: a version-4-shaped UUID drawn from the seed and `n` (the old
 * service's clients read the id as `uuid`), deterministic like {@link profileId}.
 */
export function legacyProfileId(seed: number, n: number): string {
  const hex = [1, 2, 3, 4]
    .map((salt) =>
      rowSeed(seed, n, 0x1e6ac7 + salt)
        .toString(16)
        .padStart(8, "0"),
    )
    .join("");
  const variant = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Generates synthetic profiles in chunks. Row `n` depends only on the seed, the spread and city,
 * the field set and `n` (its own PRNG stream), so a run is reproducible and any range can be
 * generated alone. With the legacy fields every row is a person carrying the old service's fields,
 * its `city` and `tz` those of the city it lies in.
 * Coordinates are rounded to 1e-6 degrees (about 0.1 m), like real data, and survive every text
 * round trip (SQL, RESP) unchanged.
 */
export function* generateProfiles(opts: GenerateOptions): Generator<ProfileChunk> {
  const place = placer(opts);
  const legacy = opts.fields === "legacy";
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
      const { lat, lon, city } = place(rng);
      const u = rng.next();
      const kind = legacy ? "person" : ((KINDS.find(([, upTo]) => u < upTo) ?? KINDS[0])?.[0] as string);
      const [name, attributes] = legacy ? legacyPerson(city, rng) : describe(kind, rng);
      chunk.ids[i] = legacy ? legacyProfileId(opts.seed, n) : profileId(opts.seed, n);
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

/**
 * The synthetic street network the simulator drives a city's couriers on: a grid of straight
 * streets `blockM` apart (jittered), turned `bearingDeg` clockwise from north, covering a square of
 * `extentKm` each side of the centre, crossed by `avenues` diagonal avenues.
 */
export interface Streets {
  /** Half the side of the street grid's square, in km. At least 5, the longest drop-off trip. */
  extentKm: number;
  /** Compass bearing of the grid's "north-south" streets, in degrees. */
  bearingDeg: number;
  /** Mean distance between parallel streets (and so between intersections), in metres. */
  blockM: number;
  /** How many diagonal avenues cut across the grid. */
  avenues: number;
}

/** A place the tools know: where it is, how big, and what a profile or a courier there carries. */
export interface City {
  /** Name as people write it; what the loader's old `city` field holds. */
  name: string;
  /** Three letters naming it in the GPS generator's record ids (`LON:12:936`); unique. */
  code: string;
  lat: number;
  lon: number;
  /** IANA time zone, the loader's old `tz` field. */
  tz: string;
  /** Country calling code, for the phone numbers of generated profiles. */
  callingCode: string;
  /**
   * Radius of the metropolitan area in km: where the loader spreads the city's profiles. About 36
   * km puts 1 M rows at roughly 400 per km² in the dense parts.
   */
  radiusKm: number;
  /** Metropolitan population in millions: a city's weight when profiles are spread worldwide. */
  population: number;
  /** The city's own street grid; {@link DEFAULT_STREETS} otherwise. */
  streets?: Streets;
}

/** The street grid of a city without figures of its own: north-south streets 110 m apart. */
export const DEFAULT_STREETS: Streets = { extentKm: 6, bearingDeg: 0, blockM: 110, avenues: 2 };

/**
 * Every city of the profile loader and the courier simulator, by the name their command lines
 * take; add a line to add one. Indio (California) is where the old distance service's demo point
 * (33.7207, -116.21677) lies.
 */
export const cities: Record<string, City> = {
  madrid: {
    name: "Madrid",
    code: "MAD",
    lat: 40.4168,
    lon: -3.7038,
    tz: "Europe/Madrid",
    callingCode: "+34",
    radiusKm: 36,
    population: 6.8,
    streets: { extentKm: 6, bearingDeg: 8, blockM: 110, avenues: 3 },
  },
  london: {
    name: "London",
    code: "LON",
    lat: 51.5074,
    lon: -0.1278,
    tz: "Europe/London",
    callingCode: "+44",
    radiusKm: 40,
    population: 9.6,
    streets: { extentKm: 7, bearingDeg: 14, blockM: 90, avenues: 5 },
  },
  "sao-paulo": {
    name: "São Paulo",
    code: "SAO",
    lat: -23.5505,
    lon: -46.6333,
    tz: "America/Sao_Paulo",
    callingCode: "+55",
    radiusKm: 40,
    population: 22,
    streets: { extentKm: 8, bearingDeg: 36, blockM: 115, avenues: 4 },
  },
  paris: {
    name: "Paris",
    code: "PAR",
    lat: 48.8566,
    lon: 2.3522,
    tz: "Europe/Paris",
    callingCode: "+33",
    radiusKm: 34,
    population: 11.2,
    streets: { extentKm: 6, bearingDeg: 22, blockM: 100, avenues: 6 },
  },
  "new-york": {
    name: "New York",
    code: "NYC",
    lat: 40.7128,
    lon: -74.006,
    tz: "America/New_York",
    callingCode: "+1",
    radiusKm: 38,
    population: 19.5,
    streets: { extentKm: 6, bearingDeg: 29, blockM: 80, avenues: 1 },
  },
  "mexico-city": {
    name: "Mexico City",
    code: "MEX",
    lat: 19.4326,
    lon: -99.1332,
    tz: "America/Mexico_City",
    callingCode: "+52",
    radiusKm: 38,
    population: 21.8,
    streets: { extentKm: 8, bearingDeg: 0, blockM: 120, avenues: 4 },
  },
  berlin: {
    name: "Berlin",
    code: "BER",
    lat: 52.52,
    lon: 13.405,
    tz: "Europe/Berlin",
    callingCode: "+49",
    radiusKm: 34,
    population: 3.7,
    streets: { extentKm: 7, bearingDeg: 18, blockM: 125, avenues: 3 },
  },
  barcelona: {
    name: "Barcelona",
    code: "BCN",
    lat: 41.3874,
    lon: 2.1686,
    tz: "Europe/Madrid",
    callingCode: "+34",
    radiusKm: 22,
    population: 5.6,
    streets: { extentKm: 5, bearingDeg: 45, blockM: 133, avenues: 2 },
  },
  indio: {
    name: "Indio",
    code: "IDO",
    lat: 33.7206,
    lon: -116.2156,
    tz: "America/Los_Angeles",
    callingCode: "+1",
    radiusKm: 25,
    population: 0.45,
  },
  "los-angeles": {
    name: "Los Angeles",
    code: "LAX",
    lat: 34.0522,
    lon: -118.2437,
    tz: "America/Los_Angeles",
    callingCode: "+1",
    radiusKm: 40,
    population: 13,
  },
  "san-francisco": {
    name: "San Francisco",
    code: "SFO",
    lat: 37.7749,
    lon: -122.4194,
    tz: "America/Los_Angeles",
    callingCode: "+1",
    radiusKm: 30,
    population: 4.7,
  },
  chicago: {
    name: "Chicago",
    code: "CHI",
    lat: 41.8781,
    lon: -87.6298,
    tz: "America/Chicago",
    callingCode: "+1",
    radiusKm: 36,
    population: 9.5,
  },
  toronto: {
    name: "Toronto",
    code: "YTO",
    lat: 43.6532,
    lon: -79.3832,
    tz: "America/Toronto",
    callingCode: "+1",
    radiusKm: 34,
    population: 6.2,
  },
  "buenos-aires": {
    name: "Buenos Aires",
    code: "BUE",
    lat: -34.6037,
    lon: -58.3816,
    tz: "America/Argentina/Buenos_Aires",
    callingCode: "+54",
    radiusKm: 36,
    population: 15.4,
  },
  bogota: {
    name: "Bogotá",
    code: "BOG",
    lat: 4.711,
    lon: -74.0721,
    tz: "America/Bogota",
    callingCode: "+57",
    radiusKm: 24,
    population: 11.3,
  },
  lima: {
    name: "Lima",
    code: "LIM",
    lat: -12.0464,
    lon: -77.0428,
    tz: "America/Lima",
    callingCode: "+51",
    radiusKm: 30,
    population: 11,
  },
  santiago: {
    name: "Santiago",
    code: "SCL",
    lat: -33.4489,
    lon: -70.6693,
    tz: "America/Santiago",
    callingCode: "+56",
    radiusKm: 28,
    population: 6.9,
  },
  rome: {
    name: "Rome",
    code: "ROM",
    lat: 41.9028,
    lon: 12.4964,
    tz: "Europe/Rome",
    callingCode: "+39",
    radiusKm: 28,
    population: 4.3,
  },
  milan: {
    name: "Milan",
    code: "MIL",
    lat: 45.4642,
    lon: 9.19,
    tz: "Europe/Rome",
    callingCode: "+39",
    radiusKm: 26,
    population: 4.3,
  },
  lisbon: {
    name: "Lisbon",
    code: "LIS",
    lat: 38.7223,
    lon: -9.1393,
    tz: "Europe/Lisbon",
    callingCode: "+351",
    radiusKm: 22,
    population: 2.9,
  },
  amsterdam: {
    name: "Amsterdam",
    code: "AMS",
    lat: 52.3676,
    lon: 4.9041,
    tz: "Europe/Amsterdam",
    callingCode: "+31",
    radiusKm: 20,
    population: 2.5,
  },
  stockholm: {
    name: "Stockholm",
    code: "STO",
    lat: 59.3293,
    lon: 18.0686,
    tz: "Europe/Stockholm",
    callingCode: "+46",
    radiusKm: 22,
    population: 2.4,
  },
  warsaw: {
    name: "Warsaw",
    code: "WAW",
    lat: 52.2297,
    lon: 21.0122,
    tz: "Europe/Warsaw",
    callingCode: "+48",
    radiusKm: 26,
    population: 3.1,
  },
  istanbul: {
    name: "Istanbul",
    code: "IST",
    lat: 41.0082,
    lon: 28.9784,
    tz: "Europe/Istanbul",
    callingCode: "+90",
    radiusKm: 40,
    population: 15.5,
  },
  moscow: {
    name: "Moscow",
    code: "MOW",
    lat: 55.7558,
    lon: 37.6173,
    tz: "Europe/Moscow",
    callingCode: "+7",
    radiusKm: 40,
    population: 12.6,
  },
  cairo: {
    name: "Cairo",
    code: "CAI",
    lat: 30.0444,
    lon: 31.2357,
    tz: "Africa/Cairo",
    callingCode: "+20",
    radiusKm: 34,
    population: 21.3,
  },
  lagos: {
    name: "Lagos",
    code: "LOS",
    lat: 6.5244,
    lon: 3.3792,
    tz: "Africa/Lagos",
    callingCode: "+234",
    radiusKm: 34,
    population: 15.4,
  },
  nairobi: {
    name: "Nairobi",
    code: "NBO",
    lat: -1.2921,
    lon: 36.8219,
    tz: "Africa/Nairobi",
    callingCode: "+254",
    radiusKm: 24,
    population: 5.1,
  },
  johannesburg: {
    name: "Johannesburg",
    code: "JNB",
    lat: -26.2041,
    lon: 28.0473,
    tz: "Africa/Johannesburg",
    callingCode: "+27",
    radiusKm: 34,
    population: 10,
  },
  dubai: {
    name: "Dubai",
    code: "DXB",
    lat: 25.2048,
    lon: 55.2708,
    tz: "Asia/Dubai",
    callingCode: "+971",
    radiusKm: 30,
    population: 3.6,
  },
  mumbai: {
    name: "Mumbai",
    code: "BOM",
    lat: 19.076,
    lon: 72.8777,
    tz: "Asia/Kolkata",
    callingCode: "+91",
    radiusKm: 34,
    population: 21,
  },
  delhi: {
    name: "Delhi",
    code: "DEL",
    lat: 28.7041,
    lon: 77.1025,
    tz: "Asia/Kolkata",
    callingCode: "+91",
    radiusKm: 40,
    population: 32,
  },
  bangalore: {
    name: "Bengaluru",
    code: "BLR",
    lat: 12.9716,
    lon: 77.5946,
    tz: "Asia/Kolkata",
    callingCode: "+91",
    radiusKm: 30,
    population: 13.6,
  },
  singapore: {
    name: "Singapore",
    code: "SIN",
    lat: 1.3521,
    lon: 103.8198,
    tz: "Asia/Singapore",
    callingCode: "+65",
    radiusKm: 20,
    population: 5.9,
  },
  bangkok: {
    name: "Bangkok",
    code: "BKK",
    lat: 13.7563,
    lon: 100.5018,
    tz: "Asia/Bangkok",
    callingCode: "+66",
    radiusKm: 34,
    population: 11,
  },
  jakarta: {
    name: "Jakarta",
    code: "JKT",
    lat: -6.2088,
    lon: 106.8456,
    tz: "Asia/Jakarta",
    callingCode: "+62",
    radiusKm: 40,
    population: 34,
  },
  manila: {
    name: "Manila",
    code: "MNL",
    lat: 14.5995,
    lon: 120.9842,
    tz: "Asia/Manila",
    callingCode: "+63",
    radiusKm: 30,
    population: 14.4,
  },
  "hong-kong": {
    name: "Hong Kong",
    code: "HKG",
    lat: 22.3193,
    lon: 114.1694,
    tz: "Asia/Hong_Kong",
    callingCode: "+852",
    radiusKm: 20,
    population: 7.5,
  },
  shanghai: {
    name: "Shanghai",
    code: "SHA",
    lat: 31.2304,
    lon: 121.4737,
    tz: "Asia/Shanghai",
    callingCode: "+86",
    radiusKm: 40,
    population: 29.2,
  },
  beijing: {
    name: "Beijing",
    code: "BJS",
    lat: 39.9042,
    lon: 116.4074,
    tz: "Asia/Shanghai",
    callingCode: "+86",
    radiusKm: 40,
    population: 21.8,
  },
  seoul: {
    name: "Seoul",
    code: "SEL",
    lat: 37.5665,
    lon: 126.978,
    tz: "Asia/Seoul",
    callingCode: "+82",
    radiusKm: 36,
    population: 26,
  },
  tokyo: {
    name: "Tokyo",
    code: "TYO",
    lat: 35.6762,
    lon: 139.6503,
    tz: "Asia/Tokyo",
    callingCode: "+81",
    radiusKm: 44,
    population: 37,
  },
  sydney: {
    name: "Sydney",
    code: "SYD",
    lat: -33.8688,
    lon: 151.2093,
    tz: "Australia/Sydney",
    callingCode: "+61",
    radiusKm: 38,
    population: 5.3,
  },
  melbourne: {
    name: "Melbourne",
    code: "MEL",
    lat: -37.8136,
    lon: 144.9631,
    tz: "Australia/Melbourne",
    callingCode: "+61",
    radiusKm: 34,
    population: 5.1,
  },
  auckland: {
    name: "Auckland",
    code: "AKL",
    lat: -36.8485,
    lon: 174.7633,
    tz: "Pacific/Auckland",
    callingCode: "+64",
    radiusKm: 24,
    population: 1.7,
  },
};

/** The names the command lines take, in table order. */
export const cityNames = Object.keys(cities);

/** The city called `name`, or an error listing the known ones. */
export function cityNamed(name: string): City {
  const city = Object.hasOwn(cities, name) ? cities[name] : undefined;
  if (!city) throw new Error(`unknown city '${name}': use one of ${cityNames.join(", ")}`);
  return city;
}

/** The city whose GPS-generator code is `code` (`LON`), if any. */
export function cityByCode(code: string): [string, City] | undefined {
  return Object.entries(cities).find(([, c]) => c.code === code.toUpperCase());
}

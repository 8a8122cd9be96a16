/**
 * A city the simulator can drive couriers in. Its streets are synthesised (no map data offline): a
 * grid of straight streets `blockM` apart (jittered, so blocks run from about 0.7 to 1.3 times
 * that), turned `bearingDeg` clockwise from north, covering a square of `extentKm` each side of
 * the centre, crossed by `avenues` diagonal avenues.
 */
export interface City {
  lat: number;
  lon: number;
  /** Half the side of the street grid's square, in km. At least 5, the longest drop-off trip. */
  extentKm: number;
  /** Compass bearing of the grid's "north-south" streets, in degrees. */
  bearingDeg: number;
  /** Mean distance between parallel streets (and so between intersections), in metres. */
  blockM: number;
  /** How many diagonal avenues cut across the grid. */
  avenues: number;
}

/** Cities by name; add a line to add one. */
export const cities: Record<string, City> = {
  "sao-paulo": { lat: -23.5505, lon: -46.6333, extentKm: 8, bearingDeg: 36, blockM: 115, avenues: 4 },
  london: { lat: 51.5074, lon: -0.1278, extentKm: 7, bearingDeg: 14, blockM: 90, avenues: 5 },
  madrid: { lat: 40.4168, lon: -3.7038, extentKm: 6, bearingDeg: 8, blockM: 110, avenues: 3 },
  barcelona: { lat: 41.3874, lon: 2.1686, extentKm: 5, bearingDeg: 45, blockM: 133, avenues: 2 },
  paris: { lat: 48.8566, lon: 2.3522, extentKm: 6, bearingDeg: 22, blockM: 100, avenues: 6 },
  berlin: { lat: 52.52, lon: 13.405, extentKm: 7, bearingDeg: 18, blockM: 125, avenues: 3 },
  "new-york": { lat: 40.758, lon: -73.9855, extentKm: 6, bearingDeg: 29, blockM: 80, avenues: 1 },
  "mexico-city": { lat: 19.4326, lon: -99.1332, extentKm: 8, bearingDeg: 0, blockM: 120, avenues: 4 },
};

/** The city called `name`, or an error listing the known ones. */
export function cityNamed(name: string): City {
  const city = Object.hasOwn(cities, name) ? cities[name] : undefined;
  if (!city) throw new Error(`unknown city '${name}': use one of ${Object.keys(cities).join(", ")}`);
  return city;
}

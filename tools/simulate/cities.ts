import { DEFAULT_STREETS, cityNamed as known, type Streets, cities as table } from "../lib/cities";

/**
 * A city as the simulator drives couriers in it: its centre and its synthetic street network (no
 * map data offline; see `Streets`). Built from the tools' one city table, `tools/lib/cities.ts`.
 */
export interface City extends Streets {
  lat: number;
  lon: number;
}

/** Cities by name: every city of the shared table, with its own street grid or the default one. */
export const cities: Record<string, City> = Object.fromEntries(
  Object.entries(table).map(([name, c]) => [
    name,
    { lat: c.lat, lon: c.lon, ...(c.streets ?? DEFAULT_STREETS) },
  ]),
);

/** The city called `name`, or an error listing the known ones. */
export function cityNamed(name: string): City {
  known(name);
  return cities[name] as City;
}

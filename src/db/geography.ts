import { customType } from "drizzle-orm/pg-core";

/** A WGS 84 point as geoedge passes it around. */
export interface LonLat {
  lon: number;
  lat: number;
}

/**
 * `geography(Point,4326)`. Written as EWKT so the SRID travels with the value; read back as EWKB hex
 * (the column's text output) and decoded here, so no extra SQL function is needed on select.
 */
export const geographyPoint = customType<{ data: LonLat; driverData: string }>({
  dataType: () => "geography(Point,4326)",
  toDriver: (p) => `SRID=4326;POINT(${p.lon} ${p.lat})`,
  fromDriver: (hex) => decodeEwkbPoint(hex),
});

/** Decodes a PostGIS EWKB point given as hex (either byte order, with or without SRID). */
export function decodeEwkbPoint(hex: string): LonLat {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  const view = new DataView(bytes.buffer);
  const little = view.getUint8(0) === 1;
  const type = view.getUint32(1, little);
  const hasSrid = (type & 0x20000000) !== 0;
  if ((type & 0xff) !== 1) throw new Error(`not a point geometry (type ${type})`);
  const offset = hasSrid ? 9 : 5;
  return { lon: view.getFloat64(offset, little), lat: view.getFloat64(offset + 8, little) };
}

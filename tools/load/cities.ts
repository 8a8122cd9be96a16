import { Rng, rowSeed } from "./random";

/** A city the loader can populate: its centre and the radius of its metropolitan area. */
export interface City {
  lat: number;
  lon: number;
  /**
   * Radius of the metropolitan area in km: the sparse uniform background covers this disc; the
   * neighbourhoods thin out away from the centre and a few lie beyond it, like satellite towns.
   * About 36 km puts 1 M rows at roughly 400 per km² in the dense parts (a million points cannot be
   * that sparse in a smaller area).
   */
  radiusKm: number;
}

/** Cities by name; add a line to add one. */
export const cities: Record<string, City> = {
  madrid: { lat: 40.4168, lon: -3.7038, radiusKm: 36 },
  london: { lat: 51.5074, lon: -0.1278, radiusKm: 40 },
  "sao-paulo": { lat: -23.5505, lon: -46.6333, radiusKm: 40 },
  paris: { lat: 48.8566, lon: 2.3522, radiusKm: 34 },
  "new-york": { lat: 40.7128, lon: -74.006, radiusKm: 38 },
  "mexico-city": { lat: 19.4326, lon: -99.1332, radiusKm: 38 },
  berlin: { lat: 52.52, lon: 13.405, radiusKm: 34 },
};

/** The city called `name`, or an error listing the known ones. */
export function cityNamed(name: string): City {
  const city = cities[name];
  if (!city) throw new Error(`unknown city '${name}': use one of ${Object.keys(cities).join(", ")}`);
  return city;
}

/** Kilometres per degree of latitude on the sphere PostGIS uses (radius 6,371.0088 km). */
const KM_PER_DEG = (6371.0088 * Math.PI) / 180;

/** Share of the rows in the uniform background; the rest fall in Gaussian clusters. */
const BACKGROUND = 0.1;
/** Share of the rows in the broad central cluster (the old town and business district). */
const CORE = 0.15;
/** Many small neighbourhoods rather than a few big ones, so their overlaps do not make hot spots. */
const NEIGHBOURHOODS = 150;

interface Cluster {
  /** Offset of the cluster's centre from the city centre, in km. */
  x: number;
  y: number;
  sigmaKm: number;
}

/**
 * Where a city's rows fall: a broad Gaussian core, {@link NEIGHBOURHOODS} Gaussian neighbourhoods
 * of uneven weight scattered around it, and a sparse uniform background over the `radiusKm` disc.
 * The layout depends on the city and the seed. With madrid and seed 42 at 1 M rows, the square
 * kilometre around a typical row holds about 230 rows, the densest tenth over 400, the densest
 * cell about 600; the background is about 25 per km².
 */
export class CityModel {
  private readonly clusters: Cluster[] = [];
  /** Cumulative weights of the clusters (the core is cluster 0), reaching 1 - BACKGROUND. */
  private readonly cumulative: number[] = [];
  private readonly kmPerDegLon: number;

  constructor(
    readonly city: City,
    seed: number,
  ) {
    this.kmPerDegLon = KM_PER_DEG * Math.cos((city.lat * Math.PI) / 180);
    const rng = new Rng(rowSeed(seed, 0, 0x5eed));
    const r = city.radiusKm;
    this.clusters.push({ x: 0, y: 0, sigmaKm: 0.35 * r });
    const weights = [CORE];
    const drawn: { x: number; y: number; w: number; jitter: number }[] = [];
    let total = 0;
    for (let i = 0; i < NEIGHBOURHOODS; i++) {
      // Neighbourhoods thin out away from the centre, and a few are much bigger than most.
      const w = Math.exp(rng.gauss() * 0.6);
      drawn.push({ x: rng.gauss() * 0.5 * r, y: rng.gauss() * 0.5 * r, w, jitter: rng.range(0.8, 1.25) });
      total += w;
    }
    for (const n of drawn) {
      const w = ((1 - BACKGROUND - CORE) * n.w) / total;
      // A bigger neighbourhood is wider, not denser: sigma grows with the square root of its weight.
      this.clusters.push({ x: n.x, y: n.y, sigmaKm: Math.sqrt(w) * r * n.jitter });
      weights.push(w);
    }
    let sum = 0;
    for (const w of weights) {
      sum += w;
      this.cumulative.push(sum);
    }
  }

  /** A point drawn from the city's distribution, as [lat, lon] in degrees; always three draws. */
  sample(rng: Rng): [number, number] {
    const u = rng.next();
    const a = rng.next();
    const b = rng.next();
    let x: number;
    let y: number;
    if (u >= 1 - BACKGROUND) {
      // Uniform over the disc: the square root keeps the density flat out to the edge.
      const d = this.city.radiusKm * Math.sqrt(a);
      x = d * Math.cos(2 * Math.PI * b);
      y = d * Math.sin(2 * Math.PI * b);
    } else {
      const c = this.clusters[this.clusterAt(u)] as Cluster;
      // A 2-D normal in polar form: Rayleigh-distributed distance, uniform angle.
      const d = c.sigmaKm * Math.sqrt(-2 * Math.log(1 - a));
      x = c.x + d * Math.cos(2 * Math.PI * b);
      y = c.y + d * Math.sin(2 * Math.PI * b);
    }
    return [this.city.lat + y / KM_PER_DEG, this.city.lon + x / this.kmPerDegLon];
  }

  private clusterAt(u: number): number {
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.cumulative[mid] as number) > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

import { type City, cities } from "../lib/cities";
import { Rng, rowSeed } from "./random";

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
/** What {@link CityModel} needs of a city: its centre and the radius of its metropolitan area. */
export type Area = Pick<City, "lat" | "lon" | "radiusKm">;

export class CityModel {
  private readonly clusters: Cluster[] = [];
  /** Cumulative weights of the clusters (the core is cluster 0), reaching 1 - BACKGROUND. */
  private readonly cumulative: number[] = [];
  private readonly kmPerDegLon: number;

  constructor(
    readonly city: Area,
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

/**
 * Profiles spread over every city of the table at once (`--spread world`): a row first picks its
 * city, weighted by the square root of the population (so a small place such as Indio, where the
 * old demo point lies, still gets about 4,600 rows per million, and Tokyo, the largest, nine times
 * as many), then a point from that city's own {@link CityModel}.
 */
export class WorldModel {
  private readonly cities = Object.values(cities);
  private readonly models: CityModel[];
  private readonly cumulative: number[] = [];

  constructor(seed: number) {
    this.models = this.cities.map((city) => new CityModel(city, seed));
    let sum = 0;
    const weights = this.cities.map((city) => Math.sqrt(city.population));
    const total = weights.reduce((a, b) => a + b, 0);
    for (const w of weights) {
      sum += w / total;
      this.cumulative.push(sum);
    }
  }

  /** A point and the city it belongs to; always four draws. */
  sample(rng: Rng): { lat: number; lon: number; city: City } {
    const u = rng.next();
    let i = this.cumulative.findIndex((c) => u < c);
    if (i < 0) i = this.models.length - 1;
    const [lat, lon] = (this.models[i] as CityModel).sample(rng);
    return { lat, lon, city: this.cities[i] as City };
  }
}

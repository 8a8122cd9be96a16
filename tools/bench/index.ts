/**
 * `npm run bench -- <name> [options]`: runs one benchmark. Each prints its results side by side with
 * its baseline from the same run; figures go to docs/benchmarks.md with the command used.
 */
const benches: Record<
  string,
  { describe: string; load: () => Promise<{ run(args: string[]): Promise<void> }> }
> = {
  bridge: {
    describe: "Upstash REST bridge vs redis-benchmark on the same Redis",
    load: () => import("./bridge"),
  },
  ingest: {
    describe: "courier fixes: HTTP → queue → CourierTrack → Postgres on workerd vs direct INSERTs",
    load: () => import("./ingest"),
  },
  nearby: {
    describe: "nearby search: naive scan, raw GEOSEARCH, Redis and PostGIS engines, HTTP on workerd",
    load: () => import("./nearby"),
  },
  scans: {
    describe: "seller scans: POST /v1/scans → SellerDebouncer alarms → notifications, lateness on workerd",
    load: () => import("./scans"),
  },
  search: {
    describe: "GET /search vs /ping on workerd, 10,000 events, provider up, down and slow",
    load: () => import("./search"),
  },
  trips: {
    describe:
      "trips: POST /v1/trips → queue → Postgres on workerd vs bulk COPY; weekly average from rollups vs raw",
    load: () => import("./trips"),
  },
};

const [name, ...args] = process.argv.slice(2);
const bench = name ? benches[name] : undefined;
if (!bench) {
  console.error(`usage: npm run bench -- <name> [options]\n`);
  for (const [key, b] of Object.entries(benches)) console.error(`  ${key.padEnd(10)} ${b.describe}`);
  process.exit(name ? 2 : 0);
}
await (await bench.load()).run(args);

export {};

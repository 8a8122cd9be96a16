import { REMAINDER } from "argparse";
import { Command } from "../lib/cli";

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

const cli = new Command({
  prog: "npm run bench --",
  description: `Runs one benchmark; each prints its results side by side with its baseline from the same run.
Record figures in docs/benchmarks.md with the command used. 'npm run bench -- <name> --help' lists a
benchmark's options.

benchmarks:
${Object.entries(benches)
  .map(([key, b]) => `  ${key.padEnd(10)} ${b.describe}`)
  .join("\n")}`,
});
cli.add_argument("name", { choices: Object.keys(benches), metavar: "name", help: "the benchmark to run" });
cli.add_argument("args", { nargs: REMAINDER, help: "the benchmark's own options" });
if (process.argv.length <= 2) {
  cli.print_help();
  process.exit(0);
}
const { name, args } = cli.parse_args() as { name: string; args: string[] };
// argparse has checked `name` against the table's keys.
const bench = benches[name] as (typeof benches)[string];
await (await bench.load()).run(args);

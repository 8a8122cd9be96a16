import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixInputSchema } from "../../src/tracking/schemas.ts";
import { cities } from "../../tools/simulate/cities.ts";
import { parseCli } from "../../tools/simulate/command.ts";
import type { SimFix } from "../../tools/simulate/gps.ts";
import { HttpSink } from "../../tools/simulate/http-sink.ts";
import { run } from "../../tools/simulate/run.ts";
import { Fleet, type SimulateOptions, simulate } from "../../tools/simulate/simulation.ts";
import { NdjsonSink } from "../../tools/simulate/sink.ts";
import { vehicles } from "../../tools/simulate/vehicles.ts";

const root = join(import.meta.dirname, "../..");
const noFaults = { gapsPerHour: 0, duplicateRate: 0, reorderRate: 0 };

function options(overrides: Partial<SimulateOptions>): SimulateOptions {
  return {
    couriers: 50,
    city: "madrid",
    rateMs: 1000,
    durationMs: 5 * 60_000,
    seed: 1,
    startMs: Date.UTC(2025, 0, 1, 8),
    ...overrides,
  };
}

/** A writable that keeps what it is given (or only counts it). */
function collector(keep: boolean): Writable & { chunks: Buffer[]; bytes: number } {
  const out = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        out.bytes += chunk.length;
        if (keep) out.chunks.push(chunk);
        done();
      },
    }),
    { chunks: [] as Buffer[], bytes: 0 },
  );
  return out;
}

async function ndjson(opts: SimulateOptions): Promise<Buffer> {
  const out = collector(true);
  await run({ ...opts, sink: new NdjsonSink(out, true) });
  return Buffer.concat(out.chunks);
}

function allFixes(opts: SimulateOptions): SimFix[] {
  return [...simulate(opts)].flatMap((tick) => tick.fixes);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const a =
    Math.sin(((lat2 - lat1) * rad) / 2) ** 2 +
    Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.sqrt(a));
}

describe("simulator: output", () => {
  it("is byte-identical for the same seed and flags, different for another seed, and valid API input", async () => {
    const a = await ndjson(options({ seed: 7 }));
    const b = await ndjson(options({ seed: 7 }));
    expect(a.length).toBeGreaterThan(1_000_000);
    expect(b.equals(a)).toBe(true);

    const lines = a.toString("utf8").trimEnd().split("\n");
    const other = new Set((await ndjson(options({ seed: 8 }))).toString("utf8").trimEnd().split("\n"));
    expect(lines.filter((line) => other.has(line)).length).toBeLessThan(lines.length / 100);

    const strict = fixInputSchema.strict();
    for (const line of lines) {
      const fix = JSON.parse(line) as SimFix;
      const parsed = strict.safeParse(fix);
      if (!parsed.success) throw new Error(`${line}: ${parsed.error.message}`);
      expect(Number.isInteger(fix.recorded_at)).toBe(true);
    }
  });

  it("writes the same bytes from the command line twice", async () => {
    const dir = mkdtempSync(join(tmpdir(), "simulator-"));
    try {
      const cli = (file: string) =>
        new Promise<number | null>((resolve) => {
          const args = ["--couriers", "30", "--city", "london", "--duration", "2m", "--seed", "99"];
          const child = spawn(
            process.execPath,
            ["--import", "tsx", "tools/simulate/cli.ts", ...args, "--out", file, "--quiet"],
            { cwd: root, stdio: "ignore" },
          );
          child.on("exit", resolve);
        });
      expect(await cli(join(dir, "a.ndjson"))).toBe(0);
      expect(await cli(join(dir, "b.ndjson"))).toBe(0);
      const first = readFileSync(join(dir, "a.ndjson"));
      expect(first.toString("utf8").split("\n").length).toBeGreaterThan(30 * 100);
      expect(readFileSync(join(dir, "b.ndjson")).equals(first)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("simulator: movement", () => {
  it("keeps true speeds, acceleration and braking within each vehicle's limits, slower cars in the centre", () => {
    const fleet = new Fleet(options({ couriers: 300, city: "london", durationMs: 20 * 60_000, seed: 3 }));
    const prev = fleet.couriers.map((c) => ({ x: c.x, y: c.y, speed: c.speed }));
    const moving: Record<string, number[]> = { bike: [], moto: [], car: [] };
    const car = { centre: [] as number[], outskirts: [] as number[] };
    let reportedMax = 0;
    let violations = 0;
    while (!fleet.done) {
      for (const fix of fleet.tick().fixes) reportedMax = Math.max(reportedMax, fix.speed_mps ?? 0);
      fleet.couriers.forEach((c, k) => {
        const p = prev[k] as (typeof prev)[number];
        const profile = vehicles[c.vehicle];
        // One-second ticks: metres moved is the mean speed, never above the courier's own cruise.
        const metres = Math.hypot(c.x - p.x, c.y - p.y);
        if (metres > c.cruise + 1e-6 || c.cruise > profile.cruise[1]) violations++;
        if (c.speed - p.speed > profile.accel + 1e-6 || p.speed - c.speed > profile.decel + 1e-6)
          violations++;
        if (metres > 0.5) moving[c.vehicle]?.push(metres);
        if (c.vehicle === "car" && c.speed > 2) {
          const r = Math.hypot(c.x, c.y);
          if (r < 1500) car.centre.push(c.speed);
          else if (r > 4000) car.outskirts.push(c.speed);
        }
        Object.assign(p, { x: c.x, y: c.y, speed: c.speed });
      });
    }
    expect(violations).toBe(0);
    expect(median(moving.bike ?? [])).toBeGreaterThan(3.5);
    expect(median(moving.bike ?? [])).toBeLessThanOrEqual(6);
    expect(median(moving.moto ?? [])).toBeGreaterThan(7);
    expect(median(moving.moto ?? [])).toBeLessThanOrEqual(12);
    expect(car.centre.length).toBeGreaterThan(500);
    expect(car.outskirts.length).toBeGreaterThan(500);
    expect(median(car.centre)).toBeLessThan(0.75 * median(car.outskirts));
    expect(reportedMax).toBeLessThan(vehicles.car.cruise[1] + 1);
  });

  it("follows the streets: headings along the rotated grid or its diagonal avenues", () => {
    const bearing = cities["sao-paulo"]?.bearingDeg ?? Number.NaN;
    const fleet = new Fleet(
      options({ couriers: 100, city: "sao-paulo", rateMs: 2000, durationMs: 30 * 60_000 }),
    );
    let axis = 0;
    let diagonal = 0;
    let other = 0;
    while (!fleet.done) {
      fleet.tick();
      for (const c of fleet.couriers) {
        if (c.speed < 0.5) continue;
        const rel = (((c.heading - bearing) % 90) + 90) % 90;
        if (Math.min(rel, 90 - rel) <= 10) axis++;
        else if (Math.abs(rel - 45) <= 23) diagonal++;
        else other++;
      }
    }
    // Straight lines through blocks would give uniform headings: about 22 % within 10° of the axes.
    expect(other).toBe(0);
    expect(axis / (axis + diagonal)).toBeGreaterThan(0.75);
    expect(diagonal).toBeGreaterThan(0);
  });

  it("keeps every fix within the city's extent", () => {
    for (const name of ["sao-paulo", "london", "madrid"]) {
      const city = cities[name];
      if (!city) throw new Error(name);
      const fleet = new Fleet(
        options({ couriers: 150, city: name, rateMs: 5000, durationMs: 2 * 3_600_000 }),
      );
      let farthest = 0;
      let outside = 0;
      while (!fleet.done) {
        for (const fix of fleet.tick().fixes) {
          const km = haversineKm(city.lat, city.lon, fix.lat, fix.lon);
          farthest = Math.max(farthest, km);
          const { u, v } = fleet.grid.gridFrame(fix.lat, fix.lon);
          // GPS noise (σ ≤ 10 m) is the only way past the streets' square.
          if (Math.max(Math.abs(u), Math.abs(v)) > city.extentKm * 1000 + 80) outside++;
          if (km > city.extentKm * Math.SQRT2 + 0.08) outside++;
        }
      }
      expect(outside, name).toBe(0);
      expect(farthest, name).toBeGreaterThan(3);
    }
  });
});

describe("simulator: delivery cycle", () => {
  it("goes free → to_pickup → to_dropoff → free with fresh task ids, dwells and realistic trips", () => {
    const fleet = new Fleet(
      options({ couriers: 200, rateMs: 5000, durationMs: 90 * 60_000, seed: 11, faults: noFaults }),
    );
    const allowed = new Set([
      "free>to_pickup",
      "to_pickup>to_dropoff",
      "to_dropoff>free",
      "free>offline",
      "offline>free",
    ]);
    const last = new Map<string, SimFix>();
    const tasks = new Map<string, Set<string>>();
    const problems: string[] = [];
    let cycles = 0;
    let offline = 0;
    // The true state at the previous tick: dwell times and trip lengths are measured on it.
    const prev = fleet.couriers.map((c) => ({ state: c.state, x: c.x, y: c.y, stillSince: Number.NaN }));
    const pickup = fleet.couriers.map(() => ({ x: 0, y: 0 }));
    const dwells = { pickup: [] as number[], dropoff: [] as number[] };
    const tripsKm: number[] = [];
    while (!fleet.done) {
      const tick = fleet.tick();
      for (const fix of tick.fixes) {
        const before = last.get(fix.courier_id);
        const state = fix.state ?? "none";
        if (!before && state !== "free") problems.push(`${fix.courier_id} starts ${state}`);
        if ((state === "to_pickup" || state === "to_dropoff") !== (fix.task_id !== undefined)) {
          problems.push(`${fix.courier_id} ${state} with task ${fix.task_id}`);
        }
        if (before && before.state !== state) {
          if (!allowed.has(`${before.state}>${state}`))
            problems.push(`${fix.courier_id} ${before.state}>${state}`);
          const seen = tasks.get(fix.courier_id) ?? new Set<string>();
          tasks.set(fix.courier_id, seen);
          if (state === "to_pickup") {
            if (seen.has(fix.task_id ?? "")) problems.push(`${fix.courier_id} reuses ${fix.task_id}`);
            seen.add(fix.task_id ?? "");
          }
          if (state === "to_dropoff" && fix.task_id !== before.task_id) {
            problems.push(`${fix.courier_id} changed task on the way to the drop-off`);
          }
          if (before.state === "to_dropoff" && state === "free") cycles++;
          if (state === "offline") offline++;
        }
        last.set(fix.courier_id, fix);
      }
      fleet.couriers.forEach((c, k) => {
        const p = prev[k] as (typeof prev)[number];
        // Standing still since `stillSince` (the first tick seen at rest), up to this tick.
        const stood = (tick.at - p.stillSince) / 1000;
        if (p.state === "to_pickup" && c.state === "to_dropoff") {
          dwells.pickup.push(stood);
          pickup[k] = { x: p.x, y: p.y };
        }
        if (p.state === "to_dropoff" && c.state === "free") {
          dwells.dropoff.push(stood);
          const at = pickup[k] as { x: number; y: number };
          tripsKm.push(Math.hypot(p.x - at.x, p.y - at.y) / 1000);
        }
        if (c.speed > 0) p.stillSince = Number.NaN;
        else if (Number.isNaN(p.stillSince)) p.stillSince = tick.at;
        Object.assign(p, { state: c.state, x: c.x, y: c.y });
      });
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(cycles).toBeGreaterThan(200);
    expect(offline).toBeGreaterThan(0);
    // Dwell 1–5 min at the pickup, 1–3 min at the drop-off, give or take one 5 s tick.
    expect(dwells.pickup.length).toBeGreaterThan(200);
    expect(Math.min(...dwells.pickup)).toBeGreaterThanOrEqual(55);
    expect(Math.max(...dwells.pickup)).toBeLessThanOrEqual(305);
    expect(Math.min(...dwells.dropoff)).toBeGreaterThanOrEqual(55);
    expect(Math.max(...dwells.dropoff)).toBeLessThanOrEqual(185);
    // Drop-offs 0.5–5 km from the pickup in a straight line, give or take snapping to intersections.
    expect(tripsKm.length).toBe(cycles);
    expect(Math.min(...tripsKm)).toBeGreaterThan(0.35);
    expect(Math.max(...tripsKm)).toBeLessThan(5.15);
    expect(median(tripsKm)).toBeGreaterThan(1.5);
  });
});

describe("simulator: GPS faults", () => {
  it("injects gaps, duplicates and out-of-order fixes at about the configured rates", () => {
    const faults = { gapsPerHour: 6, duplicateRate: 0.01, reorderRate: 0.01 };
    const fleet = new Fleet(options({ couriers: 300, durationMs: 30 * 60_000, seed: 5, faults }));
    const seen = new Map<string, Set<number>>();
    const newest = new Map<string, number>();
    const times = new Map<string, { at: number; offline: boolean }[]>();
    let duplicates = 0;
    let reordered = 0;
    let unique = 0;
    while (!fleet.done) {
      for (const fix of fleet.tick().fixes) {
        const mine = seen.get(fix.courier_id) ?? new Set<number>();
        seen.set(fix.courier_id, mine);
        if (mine.has(fix.recorded_at)) {
          duplicates++;
          continue;
        }
        mine.add(fix.recorded_at);
        unique++;
        if (fix.recorded_at < (newest.get(fix.courier_id) ?? 0)) reordered++;
        newest.set(fix.courier_id, Math.max(fix.recorded_at, newest.get(fix.courier_id) ?? 0));
        const list = times.get(fix.courier_id) ?? [];
        times.set(fix.courier_id, list);
        list.push({ at: fix.recorded_at, offline: fix.state === "offline" });
      }
    }
    expect(duplicates / unique).toBeGreaterThan(0.008);
    expect(duplicates / unique).toBeLessThan(0.012);
    expect(reordered / unique).toBeGreaterThan(0.008);
    expect(reordered / unique).toBeLessThan(0.012);

    // A gap: more than one interval without a fix, not after going offline; it lasts 10–60 s.
    const gapsS: number[] = [];
    for (const list of times.values()) {
      list.sort((a, b) => a.at - b.at);
      for (let i = 1; i < list.length; i++) {
        const [a, b] = [list[i - 1], list[i]] as [(typeof list)[number], (typeof list)[number]];
        if (b.at - a.at > 1500 && !a.offline) gapsS.push((b.at - a.at) / 1000 - 1);
      }
    }
    const expected = faults.gapsPerHour * 300 * 0.5;
    expect(gapsS.length).toBeGreaterThan(0.75 * expected);
    expect(gapsS.length).toBeLessThan(1.1 * expected);
    expect(gapsS.length).toBeLessThanOrEqual(fleet.counts.gaps);
    // Gaps still open when the run ends are never closed by a fix.
    expect(gapsS.length).toBeGreaterThan(0.9 * fleet.counts.gaps);
    expect(Math.min(...gapsS)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...gapsS)).toBeLessThanOrEqual(61);
  });
});

describe("simulator: memory", () => {
  it("stays flat: 2,000 couriers for 30 simulated minutes at 5 s grow the heap by under 4 MB", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const fleet = new Fleet(
      options({ couriers: 2000, city: "sao-paulo", rateMs: 5000, durationMs: 30 * 60_000 }),
    );
    const out = collector(false);
    const sink = new NdjsonSink(out, true);
    // Warm up first: JIT, the sink's buffers, every courier on its first route.
    for (let i = 0; i < 30; i++) await sink.write(fleet.tick().fixes);
    gc();
    const before = process.memoryUsage().heapUsed;
    while (!fleet.done) await sink.write(fleet.tick().fixes);
    await sink.close();
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    expect(sink.stats.fixes).toBeGreaterThan(2000 * 360 * 0.9);
    expect(out.bytes).toBeGreaterThan(100 * sink.stats.fixes);
    expect(grown).toBeLessThan(4 * 1024 * 1024);
  });
});

describe("simulator: HTTP sender", () => {
  let server: Server;
  let url: string;
  /** flaky: the next `failures` requests get 503; down: every request does; refuse: 401; invalid: 400. */
  let mode: "flaky" | "down" | "refuse" | "invalid" = "flaky";
  let failures = 0;
  let received: string[] = [];
  let requests: { method?: string; path?: string; auth?: string; type?: string; status: number }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const type = req.headers["content-type"];
        const status =
          mode === "refuse" ? 401 : mode === "invalid" ? 400 : mode === "down" || failures-- > 0 ? 503 : 202;
        requests.push({ method: req.method, path: req.url, auth: req.headers.authorization, type, status });
        if (status !== 202) {
          res.writeHead(status).end("not now");
          return;
        }
        const body = Buffer.concat(chunks).toString("utf8");
        const fixes = (
          type === "application/x-ndjson"
            ? body
                .split("\n")
                .filter(Boolean)
                .map((line) => JSON.parse(line))
            : (JSON.parse(body) as { fixes: unknown[] }).fixes
        ) as unknown[];
        for (const fix of fixes) received.push(JSON.stringify(fix));
        // Like the API: two fixes of every batch rejected, the list cut short, the count not.
        const answer = {
          accepted: fixes.length - 2,
          rejected_count: 2,
          rejected: [{ index: 0, errors: [{ field: "fixes.0.lat" }] }],
        };
        res.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  function reset(next: typeof mode, failing = 0): void {
    mode = next;
    failures = failing;
    received = [];
    requests = [];
  }

  it("retries 503s with backoff and delivers every fix exactly once, counting accepted and rejected", async () => {
    reset("flaky", 2);
    const opts = options({ couriers: 40, seed: 21, faults: { duplicateRate: 0.02, reorderRate: 0.02 } });
    const notes: string[] = [];
    const sink = new HttpSink({
      url,
      key: "k-sim",
      batch: 100,
      concurrency: 3,
      backoffMs: 5,
      maxBackoffMs: 20,
      log: (l) => notes.push(l),
    });
    const summary = await run({ ...opts, sink });

    const expected = allFixes(opts).map((fix) => JSON.stringify(fix));
    const batches = Math.ceil(expected.length / 100);
    expect(summary.fixes).toBe(expected.length);
    expect([...received].sort()).toEqual([...expected].sort());
    expect(requests.filter((r) => r.status === 503)).toHaveLength(2);
    expect(requests).toHaveLength(batches + 2);
    for (const r of requests) {
      expect(r).toMatchObject({
        method: "POST",
        path: "/v1/positions",
        auth: "Bearer k-sim",
        type: "application/json",
      });
    }
    expect(summary.sink).toMatchObject({
      fixes: expected.length,
      accepted: expected.length - 2 * batches,
      rejected: 2 * batches,
      errors: 2,
      retries: 2,
      failedBatches: 0,
      failedFixes: 0,
      inFlight: 0,
      queued: 0,
    });
    expect(notes[0]).toMatch(/^rejected: \{"index":0.* fix: \{"courier_id":/);
  });

  it("paces by --speedup and can send NDJSON bodies", async () => {
    reset("flaky");
    const opts = options({ couriers: 5, durationMs: 2 * 60_000, seed: 22 });
    const sink = new HttpSink({ url: `${url}/`, key: "k-sim", batch: 50, ndjsonBody: true, log: () => {} });
    const started = performance.now();
    await run({ ...opts, sink, speedup: 120 });
    // Two simulated minutes at 120x take one wall-clock second, at least.
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect([...received].sort()).toEqual(
      allFixes(opts)
        .map((fix) => JSON.stringify(fix))
        .sort(),
    );
    expect(new Set(requests.map((r) => r.type))).toEqual(new Set(["application/x-ndjson"]));
  });

  it("counts batches it gives up on, and stops on a refused key", async () => {
    reset("down");
    const opts = options({ couriers: 5, durationMs: 20_000, seed: 23 });
    const notes: string[] = [];
    const sink = new HttpSink({
      url,
      key: "k-sim",
      batch: 50,
      maxRetries: 2,
      backoffMs: 1,
      log: (l) => notes.push(l),
    });
    const summary = await run({ ...opts, sink });
    const batches = Math.ceil(summary.fixes / 50);
    expect(summary.sink).toMatchObject({
      failedBatches: batches,
      failedFixes: summary.fixes,
      errors: 3 * batches,
      retries: 2 * batches,
      accepted: 0,
    });
    expect(notes[0]).toMatch(/^batch of 50 fixes failed: HTTP 503: not now \(after 3 attempts\)/);

    // A 400 means no fix of the batch was valid: all rejected, none retried, none lost.
    reset("invalid");
    const strict = new HttpSink({ url, key: "k-sim", batch: 50, log: () => {} });
    const invalid = await run({ ...opts, sink: strict });
    expect(invalid.sink).toMatchObject({ rejected: invalid.fixes, accepted: 0, failedFixes: 0, retries: 0 });
    expect(requests).toHaveLength(Math.ceil(invalid.fixes / 50));

    // 10 minutes of 5 couriers would be 60 batches: the run stops after the first answers instead.
    reset("refuse");
    const refused = new HttpSink({ url, key: "wrong", batch: 50, concurrency: 2, log: () => {} });
    const long = options({ couriers: 5, durationMs: 10 * 60_000, seed: 23 });
    await expect(run({ ...long, sink: refused })).rejects.toThrow(/API key was refused \(401\)/);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.length).toBeLessThanOrEqual(3);
  });
});

describe("simulator: command line", () => {
  const env = { GEOEDGE_API_KEY: "k-env", GEOEDGE_DEV_PORT: "18787" };
  const parse = (...argv: string[]) => parseCli(argv, env, true);

  it("names the flag and the rule it breaks, in one line", () => {
    const cases: [string[], string | RegExp][] = [
      [["--rate", "0s"], "simulate: argument --rate: must be from 100ms to 1h"],
      [["--rate", "5s", "--duration", "2s"], "argument --duration: must be from --rate (5s) to 8784h"],
      [["--couriers", "1.5"], "argument --couriers: must be an integer from 1 to 1000000"],
      [["--couriers", "10k"], "argument --couriers: must be an integer from 1 to 1000000"],
      [["--batch", "0"], "argument --batch: must be an integer from 1 to 10000"],
      [["--city", "madrid,atlantis"], /argument --city: must be one of madrid, london, sao-paulo/],
      [["--mix", "bike=1,boat=2"], /argument --mix: must be vehicle=weight pairs/],
      [["--start", "yesterday"], "argument --start: must be an ISO 8601 date or date-time"],
      [["--start", "2019-02-30"], "argument --start: must be a calendar date YYYY-MM-DD"],
      [["--url", "ftp://x"], "argument --url: must be an http:// or https:// URL"],
      [["--out", "-", "--batch", "10"], "argument --batch: only applies when sending to the API"],
      [["--out", "-", "--speedup", "2"], "argument --speedup: only applies when sending to the API"],
      [["--fast", "--speedup", "2"], "argument --speedup: not with -b/--fast"],
      [["--bogus"], "unrecognized arguments: --bogus"],
      // The old generator's flags keep their ranges.
      [["fly"], "argument {to_db,file,both}: must be one of to_db, file, both"],
      [["file", "-tr", "4"], "argument -tr: must be an integer from 5 to 60"],
      [["file", "-hs", "25"], "argument -hs: must be an integer from 1 to 24"],
      [["file", "-nw", "0"], "argument -nw: must be an integer from 1 to 100000"],
      [["file", "-d", "2019-02-30"], "argument -d: must be a calendar date YYYY-MM-DD"],
      [["file", "-s", "fast"], "argument -s/--speed: must be a number from 0.5 to 50"],
      [["file", "-nw", "5", "--couriers", "5"], "argument --couriers: not allowed with argument -nw"],
      [["file", "-j", "-pj"], "argument -pj: not allowed with argument -j"],
      [["to_db", "-j"], "argument -j: needs a file: mode file or both, or --out"],
      [["file", "--url", "http://127.0.0.1:1"], "argument --url: not with mode file (use both)"],
      [["file", "--id-prefix", "x-"], "argument --id-prefix: not with the gpsgen formats"],
      [["--format", "gpsgen", "--out", "-", "--rate", "1500ms"], "argument --rate: must be whole seconds"],
    ];
    for (const [argv, message] of cases) expect(() => parse(...argv), argv.join(" ")).toThrow(message);
    expect(() => parseCli(["--url", "https://api.example.com"], {}, true)).toThrow(
      "argument --key: required with a URL that is not local",
    );
  });

  it("sends to the local dev API by default, as the README's example does", () => {
    const readme = parse("--couriers", "500", "--city", "madrid", "--rate", "1s", "--duration", "10m");
    expect(readme.target).toEqual({
      url: {
        url: "http://127.0.0.1:18787",
        key: "k-env",
        batch: 500,
        concurrency: 4,
        ndjsonBody: false,
        maxRetries: 10,
      },
    });
    expect(readme.sim).toMatchObject({
      couriers: 500,
      cities: ["madrid"],
      rateMs: 1000,
      durationMs: 600_000,
    });
    expect(readme.format).toBe("ndjson");
    expect(readme.speedup).toBe(1);
  });

  it("reads the old generator's command line: its modes, short flags and defaults", () => {
    const file = parse("file");
    expect(file).toMatchObject({
      mode: "file",
      format: "gpsgen",
      speedup: 1,
      sim: {
        cities: ["london", "madrid"],
        couriers: 10,
        rateMs: 10_000,
        durationMs: 8 * 3_600_000,
        gpsgenIds: true,
      },
    });
    expect(file.target.url).toBeUndefined();
    expect(file.target.out).toMatch(/^gpsgen-2025-\d\d-\d\d\.ndjson$/);

    const old = parse(
      "both",
      "-nw",
      "7",
      "-s",
      "6.5",
      "-hs",
      "3",
      "-tr",
      "15",
      "-d",
      "2025-03-01",
      "-b",
      "-pj",
    );
    expect(old).toMatchObject({ mode: "both", format: "gpsgen-pretty", speedup: undefined });
    expect(old.sim).toMatchObject({
      couriers: 7,
      speedMps: 6.5,
      durationMs: 3 * 3_600_000,
      rateMs: 15_000,
      startMs: Date.UTC(2025, 2, 1),
    });
    expect(old.target.out).toBe("gpsgen-2025-03-01.json");
    expect(old.target.url?.url).toBe("http://127.0.0.1:18787");
    // -d is --start with a plain date.
    expect(parse("--start", "2025-03-01", "--out", "-").sim.startMs).toBe(Date.UTC(2025, 2, 1));

    // Several cities with geoedge's own flags too; courier counts are per city.
    const two = parse("--city", "london,madrid", "--couriers", "5", "--out", "-");
    expect(two.sim).toMatchObject({ cities: ["london", "madrid"], couriers: 5 });
  });

  it("starts at a time fixed by the seed for files; for a URL, so that no fix is stamped in the future", () => {
    const a = parse("--out", "f", "--seed", "3", "--rate", "500ms", "--duration", "1h30m");
    expect(a.sim).toMatchObject({ seed: 3, rateMs: 500, durationMs: 5_400_000 });
    expect(a.speedup).toBeUndefined();
    expect(parse("--out", "g", "--seed", "3").sim.startMs).toBe(a.sim.startMs);
    expect(parse("--out", "f", "--seed", "4").sim.startMs).not.toBe(a.sim.startMs);

    const before = Date.now();
    const live = parse("--url", "http://127.0.0.1:1");
    // Ten minutes at 10x take one minute: start nine minutes back, end at the wall clock.
    const fast = parse("--url", "http://127.0.0.1:1", "--speedup", "10", "--duration", "10m");
    // As fast as possible: the whole run lies in the past.
    const flat = parse("to_db", "-b", "-hs", "2");
    const after = Date.now();
    expect(live.sim.startMs).toBeGreaterThanOrEqual(before);
    expect(live.sim.startMs).toBeLessThanOrEqual(after);
    expect(fast.sim.startMs).toBeGreaterThanOrEqual(before - 540_000);
    expect(fast.sim.startMs).toBeLessThanOrEqual(after - 540_000);
    expect(flat.sim.startMs).toBeLessThanOrEqual(after - 2 * 3_600_000);
    expect(flat.sim.startMs % 1000).toBe(0);
    expect(live.target.url).toMatchObject({ key: "k-env", batch: 500, concurrency: 4, ndjsonBody: false });
    expect(fast.speedup).toBe(10);
  });

  it("as a process: --help prints help and does nothing else; a bad value is one line and exit 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "simulate-cli-"));
    try {
      const cli = (...args: string[]) =>
        spawnSync(join(root, "node_modules/.bin/tsx"), [join(root, "tools/simulate/cli.ts"), ...args], {
          cwd: dir,
          encoding: "utf8",
          env: { ...process.env, GEOEDGE_API_KEY: "k", GEOEDGE_DEV_PORT: "9" },
        });
      const help = cli("file", "--help");
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(/^usage: simulate/);
      expect(help.stdout).toContain("-nw N");
      expect(readdirSync(dir)).toEqual([]);
      const bad = cli("--batch", "0");
      expect(bad.status).toBe(2);
      expect(bad.stdout).toBe("");
      expect(bad.stderr).toBe(
        "simulate: argument --batch: must be an integer from 1 to 10000 (see --help)\n",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

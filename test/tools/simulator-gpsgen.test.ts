import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haversineM } from "../../src/profiles/tolerance.ts";
import { fromGpsgen, type GpsgenRecord, parseFixRow } from "../../src/tracking/gpsgen.ts";
import { cities } from "../../tools/lib/cities.ts";
import { Fleet, Fleets, simulate } from "../../tools/simulate/simulation.ts";

const root = join(import.meta.dirname, "../..");
let dir: string;
let server: Server;
let base: string;
/** What the stub API received: the fixes of every request. */
const received: Record<string, unknown>[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gpsgen-"));
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      const fixes = (JSON.parse(body) as { fixes: Record<string, unknown>[] }).fixes;
      received.push(...fixes);
      res.writeHead(202, { "content-type": "application/json" });
      res.end(JSON.stringify({ accepted: fixes.length, rejected_count: 0, rejected: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await new Promise((resolve) => server.close(resolve));
});

/** The simulator's command line as a user types it, in a directory of its own. */
function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(join(root, "node_modules/.bin/tsx"), [join(root, "tools/simulate/cli.ts"), ...args], {
      cwd: dir,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("exit", (code) => resolve({ code, stderr }));
  });
}

interface Document {
  metadata: { start_date: string; end_date: string; simulation_type: string };
  data: GpsgenRecord[];
}

describe("simulator: the old GPS generator's invocation", () => {
  it("writes its JSON document (-j, and indented with -pj) with its records, several cities at once", async () => {
    const old = ["file", "-nw", "4", "-hs", "1", "-tr", "10", "-d", "2025-03-01", "-b"];
    expect((await runCli([...old, "-j"])).code).toBe(0);
    const text = readFileSync(join(dir, "gpsgen-2025-03-01.json"), "utf8");
    const doc = JSON.parse(text) as Document;
    expect(text).toBe(`${JSON.stringify(doc)}\n`);
    expect(Object.keys(doc)).toEqual(["metadata", "data"]);
    expect(doc.metadata).toEqual({
      start_date: "2025-03-01T00:00:00+00:00",
      end_date: "2025-03-01T01:00:00+00:00",
      simulation_type: "batch",
    });
    const start = Date.UTC(2025, 2, 1) / 1000;
    const workers = new Set<string>();
    const states = new Set<string>();
    for (const record of doc.data) {
      expect(Object.keys(record)).toEqual(["id", "state", "coord", "timestamp"]);
      const [city, worker, task] = record.id.split(":");
      expect(["LON", "MAD"]).toContain(city);
      expect(Number(worker)).toBeGreaterThanOrEqual(1);
      expect(Number(worker)).toBeLessThanOrEqual(4);
      expect(task).toMatch(/^\d+$/);
      if (record.state === "free") expect(task).toBe("0");
      workers.add(`${city}:${worker}`);
      states.add(record.state);
      expect(Number.isInteger(record.timestamp)).toBe(true);
      expect(record.timestamp).toBeGreaterThanOrEqual(start);
      expect(record.timestamp).toBeLessThanOrEqual(start + 3600);
      const home = city === "LON" ? cities.london : cities.madrid;
      const [lon, lat] = record.coord;
      expect(haversineM(home?.lat ?? 0, home?.lon ?? 0, lat, lon)).toBeLessThan(15_000);
    }
    expect(workers.size).toBe(8);
    expect([...states].sort()).toEqual(["free", "to_customer", "to_provider"]);
    // About one record per worker every 10 s for an hour (fewer for signal losses and breaks).
    expect(doc.data.length).toBeGreaterThan(8 * 360 * 0.8);

    // Every record is a row POST /v1/positions takes, as the worker's courier.
    const parsed = doc.data.map(parseFixRow);
    expect(parsed.filter((p) => !p.success)).toEqual([]);
    expect(new Set(parsed.map((p) => (p.success ? p.data.courier_id : "")))).toEqual(workers);

    expect((await runCli([...old, "-pj"])).code).toBe(0);
    const pretty = readFileSync(join(dir, "gpsgen-2025-03-01.json"), "utf8");
    expect(pretty).toBe(`${JSON.stringify(doc, null, 2)}\n`);
  });

  it("in mode both, sends to the API the same fixes it writes, as geoedge maps the records", async () => {
    received.length = 0;
    const out = join(dir, "both.ndjson");
    const run = await runCli([
      "both",
      "-nw",
      "2",
      "-hs",
      "1",
      "-tr",
      "30",
      "-b",
      "--url",
      base,
      "--key",
      "k",
      "--out",
      out,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const records = readFileSync(out, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as GpsgenRecord);
    expect(received).toHaveLength(records.length);
    const sent = new Map(received.map((f) => [`${f.courier_id}@${f.recorded_at}`, f]));
    for (const record of records) {
      const mapped = fromGpsgen(record);
      expect(sent.get(`${mapped.courier_id}@${mapped.recorded_at}`)).toMatchObject(mapped);
    }
  });
});

describe("simulator: several cities, and a set speed", () => {
  const base = {
    couriers: 6,
    rateMs: 5000,
    durationMs: 20 * 60_000,
    seed: 5,
    startMs: Date.UTC(2025, 0, 1, 8),
  };

  it("runs one fleet per city, each where it belongs; one city alone is that city's fleet", () => {
    const fleets = new Fleets({ ...base, city: "london", cities: ["london", "madrid", "indio"] });
    const ids = new Set<string>();
    while (!fleets.done) {
      for (const fix of fleets.tick().fixes) {
        ids.add(fix.courier_id);
        const code = fix.courier_id.slice(2, 5);
        const city = Object.values(cities).find((c) => c.code === code);
        expect(haversineM(city?.lat ?? 0, city?.lon ?? 0, fix.lat, fix.lon)).toBeLessThan(15_000);
      }
    }
    expect([...ids].sort()).toEqual(
      ["LON", "MAD", "IDO"].flatMap((code) => [1, 2, 3, 4, 5, 6].map((n) => `c-${code}-000${n}`)).sort(),
    );
    const alone = [...simulate({ ...base, city: "madrid" })].flatMap((t) => t.fixes);
    const fleet = new Fleet({ ...base, city: "madrid" });
    const direct = [];
    while (!fleet.done) direct.push(...fleet.tick().fixes);
    expect(alone).toEqual(direct);
    expect(alone[0]?.courier_id).toMatch(/^c-\d{4}$/);
  });

  it("makes every courier cruise at --speed", () => {
    const fleet = new Fleet({ ...base, couriers: 40, city: "madrid", speedMps: 7 });
    expect(new Set(fleet.couriers.map((c) => c.cruise))).toEqual(new Set([7]));
    let fastest = 0;
    while (!fleet.done) {
      fleet.tick();
      for (const c of fleet.couriers) fastest = Math.max(fastest, c.speed);
    }
    expect(fastest).toBeGreaterThan(6);
    expect(fastest).toBeLessThanOrEqual(7 + 1e-9);
  });
});

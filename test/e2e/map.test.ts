import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeStack } from "../../tools/stack/stack";
import { scratchStack, stackEnv } from "../tools/stack-helpers";

const root = join(import.meta.dirname, "../..");
const CHROMIUM = process.env.GEOEDGE_CHROMIUM ?? "/usr/bin/chromium";
const shots = join(root, "test-results");
const config = await scratchStack(2);
const [port, providerPort] = config.spare as [number, number];
const base = `http://127.0.0.1:${port}`;
const devVars = join(config.dir, "dev.vars");
const children: ChildProcess[] = [];
let browser: Browser | undefined;
let page: Page;
let key = "";
const consoleErrors: string[] = [];

async function poll<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function start(args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: root,
    env: { ...process.env, ...stackEnv(config), ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  return child;
}

/** Screen positions of the courier markers, by courier id. */
async function markerPositions(): Promise<Map<string, string>> {
  const list = await page.$$eval(".courier-icon", (els) =>
    els.map(
      (e) => [e.getAttribute("data-courier") ?? "", (e as HTMLElement).style.transform] as [string, string],
    ),
  );
  return new Map(list);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: install the Debian package 'chromium' (apt-get install chromium)`,
    );
  }
  mkdirSync(shots, { recursive: true });
  start(["tools/dev.ts"], {
    GEOEDGE_DEV_PORT: String(port),
    GEOEDGE_DEV_VARS: devVars,
    GEOEDGE_PROVIDER_PORT: String(providerPort),
  });
  await poll(
    async () => ((await fetch(`${base}/health`)).status === 200 ? true : undefined),
    90_000,
    "npm run dev",
  );
  key = /"key":"(gek_dev_[^"]+)"/.exec(readFileSync(devVars, "utf8"))?.[1] ?? "";
  // Profiles to find with a nearby search, around the map's starting point.
  const profiles = Array.from({ length: 12 }, (_, i) => ({
    id: `e2e-shop-${i}`,
    name: `Shop ${i}`,
    lat: 40.4168 + (i % 4) * 0.001,
    lon: -3.7038 + Math.floor(i / 4) * 0.001,
  }));
  const res = await fetch(`${base}/v1/profiles`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ profiles }),
  });
  expect(res.status).toBe(200);
  // A small fleet in real time for the whole test.
  start([
    "tools/simulate/cli.ts",
    "--couriers",
    "25",
    "--city",
    "madrid",
    "--rate",
    "1s",
    "--duration",
    "4m",
    "--url",
    base,
    "--key",
    key,
    "--batch",
    "25",
    "--quiet",
  ]);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("pageerror", (error) => consoleErrors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    // Offline, the one tile probe fails at the network level; the page handles it and says so.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      consoleErrors.push(message.text());
    }
  });
}, 150_000);

afterAll(async () => {
  await browser?.close();
  const dev = children[0];
  for (const child of children.slice(1)) if (child.exitCode === null) child.kill("SIGTERM");
  if (dev && dev.exitCode === null) {
    const exited = new Promise((resolve) => dev.once("exit", resolve));
    dev.kill("SIGINT");
    await exited;
  }
  await removeStack(config);
}, 60_000);

describe("the live map in a real browser", () => {
  it("shows the simulated couriers, and they move", async () => {
    await page.goto(`${base}/`);
    await page.fill("#key", key);
    await page.click("#key-form button");
    const live = await poll(
      async () => {
        const text = (await page.textContent("#live-count")) ?? "";
        const n = Number(/^(\d+) live couriers/.exec(text)?.[1] ?? 0);
        return n > 0 && (await page.locator(".courier-icon").count()) > 0 ? n : undefined;
      },
      60_000,
      "couriers on the map",
    );
    expect(live).toBeGreaterThan(0);
    expect(await page.textContent("#tiles-banner")).toMatch(/tiles are unavailable|tiles are off/i);
    await page.screenshot({ path: join(shots, "map-couriers.png") });

    const before = await markerPositions();
    const moved = await poll(
      async () => {
        const after = await markerPositions();
        const changed = [...after].filter(([id, t]) => before.has(id) && before.get(id) !== t);
        return changed.length > 0 ? changed.length : undefined;
      },
      20_000,
      "a marker to move",
    );
    expect(moved).toBeGreaterThan(0);

    await page.check("#density");
    const cells = await poll(
      async () => {
        const n = await page.locator("path.density-cell").count();
        return n > 0 ? n : undefined;
      },
      10_000,
      "the H3 density layer",
    );
    expect(cells).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, "map-density.png") });
    await page.uncheck("#density");
    expect(await page.locator("path.density-cell").count()).toBe(0);
  });

  it("shows a courier's state and track when clicked", async () => {
    const marker = page.locator(".courier-icon").first();
    await poll(
      async () => {
        await marker.click();
        const summary = (await page.textContent("#track-summary").catch(() => null)) ?? "";
        const fixes = Number(/^(\d+) fixes/.exec(summary)?.[1] ?? 0);
        return fixes > 1 && (await page.locator("path.track-line").count()) > 0 ? fixes : undefined;
      },
      30_000,
      "a drawn track",
    );
    expect(await page.textContent("#details h2")).toMatch(/^Courier /);
    await page.screenshot({ path: join(shots, "map-track.png") });
  });

  it("draws a nearby search: circle and results", async () => {
    await page.selectOption("#search-kind", "profiles");
    await page.fill("#radius", "800");
    await page.goto(`${base}/?center=40.4175,-3.7030&zoom=15`);
    await page.click("#search-centre");
    const results = await poll(
      async () => {
        const n = await page.locator("#search-results li").count();
        return n > 0 ? n : undefined;
      },
      15_000,
      "search results",
    );
    expect(results).toBe(12);
    expect(await page.locator("path.search-circle").count()).toBe(1);
    expect(await page.locator("path.search-result").count()).toBe(12);
    await page.screenshot({ path: join(shots, "map-search.png") });
  });

  it("fits a phone-sized screen, with keyboard-reachable controls and no console errors", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/`, { waitUntil: "load" });
    // Recorded for docs/benchmarks.md, not asserted: timings belong to measurements, not tests.
    const loadMs = await page.evaluate(() => performance.getEntriesByType("navigation")[0]?.duration ?? -1);
    writeFileSync(join(shots, "map-load.json"), JSON.stringify({ loadMs, at: new Date().toISOString() }));
    const mapBox = await page.locator("#map").boundingBox();
    const panelBox = await page.locator("#panel").boundingBox();
    expect(mapBox && panelBox && panelBox.y >= mapBox.y + mapBox.height - 1).toBe(true);
    expect(mapBox?.width).toBeLessThanOrEqual(390);
    const focused: string[] = [];
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press("Tab");
      focused.push(
        await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName || ""),
      );
    }
    expect(focused).toEqual(
      expect.arrayContaining(["key", "density", "track-minutes", "search-kind", "radius", "search-centre"]),
    );
    await page.screenshot({ path: join(shots, "map-phone.png") });
    expect(consoleErrors).toEqual([]);
  });
});

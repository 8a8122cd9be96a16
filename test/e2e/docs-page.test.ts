import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeStack } from "../../tools/stack/stack";
import { launchChromium, poll, scratchStack, stackEnv } from "../tools/stack-helpers";

const root = join(import.meta.dirname, "../..");
const config = await scratchStack(2);
const [port, providerPort] = config.spare as [number, number];
const base = `http://127.0.0.1:${port}`;
let dev: ChildProcess | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  dev = spawn(process.execPath, ["--import", "tsx", "tools/dev.ts", "--no-crons"], {
    cwd: root,
    env: {
      ...process.env,
      ...stackEnv(config),
      GEOEDGE_DEV_PORT: String(port),
      GEOEDGE_DEV_VARS: join(config.dir, "dev.vars"),
      GEOEDGE_PROVIDER_PORT: String(providerPort),
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  await poll(async () => ((await fetch(`${base}/ping`)).ok ? true : undefined), 120_000, "npm run dev");
  browser = await launchChromium();
}, 150_000);

afterAll(async () => {
  await browser?.close();
  if (dev && dev.exitCode === null) {
    const exited = new Promise((resolve) => dev?.once("exit", resolve));
    dev.kill("SIGINT");
    await exited;
  }
  await removeStack(config);
}, 60_000);

describe("the API reference at /docs in a real browser", () => {
  it("renders every operation of /openapi.json offline, loading nothing from another host", async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { summary?: string }>>;
    };
    const summaries = Object.values(doc.paths).flatMap((methods) =>
      Object.values(methods).map((op) => op.summary ?? ""),
    );
    expect(summaries.length).toBeGreaterThan(20);
    const page = await (browser as Browser).newPage({ viewport: { width: 1280, height: 900 } });
    const elsewhere: string[] = [];
    const errors: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith("data:")) elsewhere.push(r.url());
    });
    page.on("pageerror", (e) => errors.push(e.message));
    // biome-ignore lint/performance/useDomNodeTextContent: what a reader sees, without hidden nodes.
    const visibleText = () => page.evaluate(() => document.body.innerText);
    await page.goto(`${base}/docs`);
    const text = await poll(
      async () => {
        const body = await visibleText();
        return summaries.every((s) => body.includes(s)) ? body : undefined;
      },
      30_000,
      "every operation on the page",
    ).catch(visibleText);
    expect(summaries.filter((s) => !text.includes(s))).toEqual([]);
    expect(elsewhere).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});

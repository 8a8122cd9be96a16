import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isAlive, isPortOpen } from "../../tools/stack/processes";
import { removeStack } from "../../tools/stack/stack";
import { poll as pollFor, scratchStack, stackEnv, statePids } from "./stack-helpers";

const poll = <T>(probe: () => Promise<T | undefined>, ms: number, what: string) =>
  pollFor(probe, ms, what, () => output);

const root = join(import.meta.dirname, "../..");
const config = await scratchStack(2);
const [devPort, providerPort] = config.spare as [number, number];
const devVars = join(config.dir, "dev.vars");
let dev: ChildProcess | undefined;
let output = "";

afterAll(async () => {
  if (dev && dev.exitCode === null) {
    const exited = new Promise((resolve) => dev?.once("exit", resolve));
    dev.kill("SIGINT");
    await exited;
  }
  // Whatever a failed run left behind is this test's own scratch stack: stop it by its PIDs.
  await removeStack(config);
});

async function health(): Promise<{ status: number; body: { checks: Record<string, { status: string }> } }> {
  const res = await fetch(`http://127.0.0.1:${devPort}/health`);
  return { status: res.status, body: (await res.json()) as { checks: Record<string, { status: string }> } };
}

describe("npm run dev", () => {
  it("brings up the stack and the Worker, and /health is 200 within a minute", async () => {
    dev = spawn(process.execPath, ["--import", "tsx", "tools/dev.ts"], {
      cwd: root,
      env: {
        ...process.env,
        ...stackEnv(config),
        GEOEDGE_DEV_PORT: String(devPort),
        GEOEDGE_DEV_VARS: devVars,
        GEOEDGE_PROVIDER_PORT: String(providerPort),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    dev.stdout?.on("data", (d) => {
      output += d;
    });
    dev.stderr?.on("data", (d) => {
      output += d;
    });
    const up = await poll(
      async () => {
        const h = await health();
        return h.status === 200 ? h : undefined;
      },
      60_000,
      "/health to answer 200",
    );
    expect(up.body.checks.redis?.status).toBe("up");
    expect(up.body.checks.postgres?.status).toBe("up");

    const key = /"key":"(gek_dev_[^"]+)"/.exec(readFileSync(devVars, "utf8"))?.[1];
    expect(key).toBeTruthy();
    await poll(async () => (output.includes(`dev key  ${key}`) ? true : undefined), 10_000, "the banner");
    expect(output).toContain(`http://127.0.0.1:${devPort}/docs`);
    // The banner comes only once the Worker answers, and once.
    expect(output.split("geoedge is running").length).toBe(2);
    expect(output).toMatch(/crons +\*\/5 \* \* \* \*, \* \* \* \* \*, \*\/10 \* \* \* \* \(UTC\)/);
    // The comment lines of .dev.vars never carry the key.
    const comments = readFileSync(devVars, "utf8")
      .split("\n")
      .filter((line) => line.startsWith("#"));
    expect(comments.join("\n")).not.toContain(key);
  }, 90_000);

  it("runs the crons by itself: the provider pull fills /search without any call to /__scheduled", async () => {
    const events = await poll(
      async () => {
        const res = await fetch(`http://127.0.0.1:${devPort}/search`);
        const body = (await res.json()) as { data: { events: unknown[] } | null };
        return body.data && body.data.events.length > 0 ? body.data.events.length : undefined;
      },
      60_000,
      "a non-empty /search",
    );
    expect(events).toBeGreaterThan(0);
    expect(output).not.toContain("geoedge dev: cron");
  }, 70_000);

  it("answers 503 naming Redis when Redis stops", async () => {
    const pid = statePids(config.dir).redis;
    expect(pid).toBeDefined();
    process.kill(pid as number, "SIGTERM");
    const down = await poll(
      async () => {
        const h = await health();
        return h.status === 503 ? h : undefined;
      },
      20_000,
      "/health to answer 503",
    );
    expect(down.body.checks.redis?.status).toBe("down");
    expect(down.body.checks.postgres?.status).toBe("up");
  });

  it("stops cleanly on Ctrl-C, taking down the stack it started", async () => {
    const pids = statePids(config.dir);
    const exited = new Promise<number | null>((resolve) => dev?.once("exit", resolve));
    dev?.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(output).toContain("geoedge dev stopped");
    for (const pid of [pids.postgres, pids.services]) expect(pid && isAlive(pid)).toBe(false);
    // Nothing of the stack or the Worker is left listening.
    for (const p of [...Object.values(config.ports), devPort, providerPort])
      expect(await isPortOpen(p)).toBe(false);
  });
});

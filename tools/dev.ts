import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { unstable_readConfig } from "wrangler";
import { migrateDatabase } from "./db/migrate";
import { type DevCrons, startDevCrons } from "./dev-crons";
import { devEnvironment, ensureDevVars, firstDevKey } from "./dev-vars";
import { startFakeProvider } from "./fake-provider";
import { Command, integer } from "./lib/cli";
import { repoRoot } from "./stack/config";
import { waitFor } from "./stack/processes";
import { ensureStack, type StackHandle } from "./stack/stack";

const cli = new Command({
  prog: "npm run dev --",
  description: `Runs geoedge locally: starts the local stack (Redis, PostgreSQL + PostGIS, PgBouncer, the Upstash
bridge, the Neon proxy; installing the Debian packages it needs on first run), migrates the dev
database, then serves the Worker with wrangler dev (local Durable Objects and Queues) and fires its
crons on their schedules, each also once at start. Ctrl-C stops everything this run started.`,
});
cli.add_argument("--port", {
  type: integer(1024, 65535),
  default: Number(process.env.GEOEDGE_DEV_PORT ?? 8787),
  help: "the Worker's port (default: %(default)s, or GEOEDGE_DEV_PORT)",
});
cli.add_argument("--no-crons", {
  action: "store_true",
  dest: "noCrons",
  help: "don't fire the crons; call /__scheduled?cron=… yourself",
});
const options = cli.parse_args() as { port: number; noCrons: boolean };
const port = options.port;
const base = `http://127.0.0.1:${port}`;
const started = Date.now();

let stack: StackHandle | undefined;
let fakeProvider: Awaited<ReturnType<typeof startFakeProvider>> | undefined;
let wrangler: ChildProcess | undefined;
let crons: DevCrons | undefined;
let stopping = false;

/** Stops, in reverse order, whatever this run started (also after a failed start). */
async function shutdown(code: number): Promise<void> {
  // Wrangler exits while a shutdown already runs: that shutdown finishes and sets the exit code.
  if (stopping) return;
  {
    stopping = true;
    crons?.stop();
    if (wrangler && wrangler.exitCode === null && wrangler.signalCode === null) {
      const exited = new Promise((resolve) => wrangler?.once("exit", resolve));
      wrangler.kill("SIGINT");
      await exited;
    }
    await fakeProvider?.close();
    await stack?.stop();
    const what = stack?.started.length ? ` (stopped ${stack.started.join(", ")})` : "";
    console.log(`geoedge dev stopped${what}`);
  }
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

/** Whether the Worker answers its trivial route. */
async function workerAnswers(): Promise<boolean> {
  try {
    const res = await fetch(`${base}/ping`, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

try {
  stack = await ensureStack();
  const devVars = ensureDevVars(stack);
  await migrateDatabase(stack.postgres.url("geoedge"), stack.proxy);
  const config = unstable_readConfig({ config: join(repoRoot, "wrangler.toml") });

  // The fake provider stands in for the events provider unless a real one is named.
  const providerPort = Number(process.env.GEOEDGE_PROVIDER_PORT ?? 8790);
  fakeProvider = process.env.PROVIDER_URL ? undefined : await startFakeProvider(providerPort);
  const providerUrl = process.env.PROVIDER_URL ?? `${fakeProvider?.url}/api/events`;

  const envFile = join(stack.dir, "dev.env");
  const values = { ...devEnvironment(stack, devVars), PROVIDER_URL: providerUrl };
  writeFileSync(
    envFile,
    Object.entries(values)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n"),
    { mode: 0o600 },
  );
  // Wrangler prefers secrets found in its own environment over the env file, so the connection
  // settings of the running stack are the only ones it may see.
  // Offline, miniflare's fetch of the `Request.cf` object fails with a stack trace on every start;
  // its placeholder is what a local request gets either way.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? "false",
  };
  for (const name of Object.keys(values)) delete env[name];
  wrangler = spawn(
    process.execPath,
    [
      join(repoRoot, "node_modules/wrangler/bin/wrangler.js"),
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--test-scheduled",
      "--persist-to",
      join(stack.dir, "wrangler"),
      "--env-file",
      envFile,
      "--show-interactive-dev-session=false",
    ],
    { cwd: repoRoot, stdio: ["ignore", "inherit", "inherit"], env },
  );
  // Wrangler exiting by itself (a crash or a bad config) ends the session with its exit code.
  wrangler.once("exit", (code) => void shutdown(code ?? 1));

  await waitFor(workerAnswers, 90_000, `the Worker did not answer ${base}/ping within 90 s`);
  const cronList = options.noCrons ? [] : (config.triggers.crons ?? []);
  console.log(`
geoedge is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)
  API      ${base}/v1
  health   ${base}/health
  docs     ${base}/docs   (OpenAPI: ${base}/openapi.json)
  map      ${base}/
  search   ${base}/search   (provider ${providerUrl}${fakeProvider ? ", the local fake" : ""})
  crons    ${cronList.length ? `${cronList.join(", ")} (UTC): each runs now, then on its schedule` : "off (--no-crons)"}; run one by hand with ${base}/__scheduled?cron=…
  dev key  ${firstDevKey(devVars) ?? "(none in .dev.vars API_KEYS)"}
  stack    redis 127.0.0.1:${stack.redisPort}, postgres ${stack.postgres.url("geoedge")}
Press Ctrl-C to stop.
`);
  crons = startDevCrons(base, cronList, (line) => console.error(`geoedge dev: ${line}`));
  await crons.runAll();
} catch (error) {
  console.error(`geoedge dev: ${error instanceof Error ? error.message : String(error)}`);
  await shutdown(1);
}

import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { migrateDatabase } from "./db/migrate";
import { devEnvironment, ensureDevVars, firstDevKey } from "./dev-vars";
import { startFakeProvider } from "./fake-provider";
import { repoRoot } from "./stack/config";
import { isPortOpen, waitFor } from "./stack/processes";
import { ensureStack } from "./stack/stack";

/**
 * `npm run dev`: the local stack, migrations, then `wrangler dev` with local Durable Objects,
 * Queues and test-scheduled crons. Ctrl-C stops wrangler and whatever part of the stack this run
 * started.
 */
const port = Number(process.env.GEOEDGE_DEV_PORT ?? 8787);
const started = Date.now();

const stack = await ensureStack();
const devVars = ensureDevVars(stack);
await migrateDatabase(stack.postgres.url("geoedge"), stack.proxy);

// The fake provider stands in for the events provider unless a real one is named.
const providerPort = Number(process.env.GEOEDGE_PROVIDER_PORT ?? 8790);
const fakeProvider = process.env.PROVIDER_URL ? undefined : await startFakeProvider(providerPort);
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

const wrangler = spawn(
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
  { cwd: repoRoot, stdio: ["ignore", "inherit", "inherit"], env: wranglerEnv() },
);

/**
 * Wrangler prefers secrets found in its own environment over the env file, so the connection
 * settings of the running stack are the only ones it may see.
 */
function wranglerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, WRANGLER_SEND_METRICS: "false" };
  for (const name of Object.keys(values)) delete env[name];
  return env;
}

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (wrangler.exitCode === null && wrangler.signalCode === null) {
    const exited = new Promise((resolve) => wrangler.once("exit", resolve));
    wrangler.kill("SIGINT");
    await exited;
  }
  await fakeProvider?.close();
  await stack.stop();
  console.log(`geoedge dev stopped${stack.started.length ? ` (stopped ${stack.started.join(", ")})` : ""}`);
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
// Wrangler exiting by itself (a crash or a bad config) ends the session with its exit code.
wrangler.once("exit", (code) => void shutdown(code ?? 1));

await waitFor(() => isPortOpen(port), 60_000, `wrangler dev did not open port ${port}`);
const base = `http://127.0.0.1:${port}`;
console.log(`
geoedge is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)
  API      ${base}/v1
  health   ${base}/health
  docs     ${base}/docs   (OpenAPI: ${base}/openapi.json)
  crons    ${base}/__scheduled?cron=*/10+*+*+*+*
  search   ${base}/search   (provider ${providerUrl}${fakeProvider ? ", the local fake" : ""})
  dev key  ${firstDevKey(devVars) ?? "(none in .dev.vars API_KEYS)"}
  stack    redis 127.0.0.1:${stack.redisPort}, postgres ${stack.postgres.url("geoedge")}
Press Ctrl-C to stop.
`);

import { Command } from "../lib/cli.ts";
import { databases } from "./config.ts";
import { ensureStack, removeStack, stackStatus, stopStack } from "./stack.ts";

/** `npm run stack -- start|stop|status|remove`: the local Redis, Postgres, PgBouncer and bridge processes. */
const cli = new Command({
  prog: "npm run stack --",
  description: `The local stack alone: Redis, PostgreSQL + PostGIS, PgBouncer, the Upstash REST bridge and the
Neon WebSocket proxy, on the ports in docs/local-stack.md (GEOEDGE_*_PORT moves them).`,
});
cli.add_argument("command", {
  choices: ["start", "stop", "status", "remove"],
  nargs: "?",
  default: "status",
  help: "start: start what is not running (idempotent); stop: stop what this checkout's stack started, by PID; status: what runs; remove: stop, then delete the stack's data (default: status)",
});
const { command } = cli.parse_args() as { command: "start" | "stop" | "status" | "remove" };

try {
  if (command === "start") {
    const stack = await ensureStack();
    console.log(
      `started: ${stack.started.join(", ") || "nothing"}; already running: ${stack.reused.join(", ") || "nothing"}`,
    );
    console.log(
      `redis 127.0.0.1:${stack.redisPort}  postgres ${stack.postgres.url(databases[0])}  pooled ${stack.postgres.pooledUrl(databases[0])}`,
    );
    console.log(`upstash bridge ${stack.bridge.url}  neon proxy ${stack.proxy}`);
  } else if (command === "stop") {
    const stopped = await stopStack();
    console.log(`stopped: ${stopped.join(", ") || "nothing was running"}`);
  } else if (command === "remove") {
    const removed = await removeStack();
    console.log(`stopped the stack and removed ${removed.join(" and ")}`);
  } else {
    console.log(JSON.stringify(await stackStatus(), null, 2));
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

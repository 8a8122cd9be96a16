import { ensureStack, stackStatus, stopStack } from "./stack";

/** `npm run stack -- start|stop|status`: manage the local Redis, Postgres and bridge processes. */
const command = process.argv[2] ?? "status";

try {
  if (command === "start") {
    const stack = await ensureStack();
    console.log(
      `started: ${stack.started.join(", ") || "nothing"}; already running: ${stack.reused.join(", ") || "nothing"}`,
    );
    console.log(
      `redis 127.0.0.1:${stack.redisPort}  postgres ${stack.postgres.url("geoedge")}  pooled ${stack.postgres.pooledUrl("geoedge")}`,
    );
    console.log(`upstash bridge ${stack.bridge.url}  neon proxy ${stack.proxy}`);
  } else if (command === "stop") {
    const stopped = await stopStack();
    console.log(`stopped: ${stopped.join(", ") || "nothing was running"}`);
  } else if (command === "status") {
    console.log(JSON.stringify(await stackStatus(), null, 2));
  } else {
    console.error("usage: npm run stack -- start|stop|status");
    process.exit(2);
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

import { parseArgs } from "node:util";
import { startUpstashBridge } from "./upstash-bridge.ts";
import { startWsProxy } from "./ws-proxy.ts";

/**
 * The stack's Node process: the Upstash REST bridge and the Neon WebSocket proxy, both on loopback.
 * Started detached by `tools/stack/stack.ts`; the token comes through the environment, not argv,
 * so it does not show in `ps`.
 */
const { values } = parseArgs({
  options: {
    "redis-port": { type: "string" },
    "bridge-port": { type: "string" },
    "proxy-port": { type: "string" },
  },
});

const token = process.env.GEOEDGE_BRIDGE_TOKEN;
if (!token) throw new Error("GEOEDGE_BRIDGE_TOKEN is not set");

const bridge = await startUpstashBridge({
  port: Number(values["bridge-port"]),
  redis: { host: "127.0.0.1", port: Number(values["redis-port"]) },
  token,
});
const proxy = await startWsProxy({ port: Number(values["proxy-port"]) });
console.log(JSON.stringify({ msg: "stack services up", bridge: bridge.url, proxy: proxy.port }));

const shutdown = async () => {
  await Promise.allSettled([bridge.close(), proxy.close()]);
  process.exit(0);
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

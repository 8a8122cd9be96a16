import { neonConfig } from "@neondatabase/serverless";
import { WebSocket } from "ws";

/**
 * Sets up the Neon driver in Node: the `ws` WebSocket, and for a local Postgres the stack's
 * WebSocket proxy (`host:port`). These settings are global to the driver.
 */
export function configureNeonForNode(localProxy?: string): void {
  neonConfig.webSocketConstructor = WebSocket;
  if (!localProxy) return;
  neonConfig.wsProxy = (host, port) => `${localProxy}/v1?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
}

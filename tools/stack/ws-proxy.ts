import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";

/** Hosts the proxy may reach: loopback only, so it can never be used to reach the network. */
const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|::1|\[::1\])$/;

/** Splits `host:port` (IPv6 in brackets allowed) and checks it is a loopback target. */
export function parseTarget(address: string | null): { host: string; port: number } | string {
  if (!address) return "missing ?address=host:port";
  const match = /^(.+):(\d{1,5})$/.exec(address);
  if (!match?.[1] || !match[2]) return `address '${address}' is not host:port`;
  const host = match[1].replace(/^\[|\]$/g, "");
  const port = Number(match[2]);
  if (!LOOPBACK.test(host) && host !== "::1") return `target '${host}' is not a loopback address`;
  if (port < 1 || port > 65535) return `port ${port} is out of range`;
  return { host, port };
}

/**
 * The WebSocket-to-TCP proxy the Neon serverless driver talks to when it runs against a local
 * Postgres: each WebSocket at `/v1?address=host:port` becomes one TCP connection, bytes both ways.
 */
export async function startWsProxy(opts: {
  port: number;
  host?: string;
}): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(426, { "content-type": "text/plain" }).end("WebSocket upgrade required\n");
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const target = url.pathname === "/v1" ? parseTarget(url.searchParams.get("address")) : "path must be /v1";
    if (typeof target === "string") {
      socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\n\r\n${target}\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => bridge(ws, target.host, target.port));
  });
  await new Promise<void>((resolve) => server.listen(opts.port, opts.host ?? "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : opts.port;
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        for (const client of wss.clients) client.terminate();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function bridge(ws: WebSocket, host: string, port: number): void {
  const tcp = connect({ host, port });
  tcp.setNoDelay(true);
  const pending: Buffer[] = [];
  let connected = false;
  tcp.on("connect", () => {
    connected = true;
    for (const chunk of pending) tcp.write(chunk);
    pending.length = 0;
  });
  ws.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
    const chunk = Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.isBuffer(data)
        ? data
        : Buffer.from(data);
    if (connected) tcp.write(chunk);
    else pending.push(chunk);
  });
  tcp.on("data", (chunk) => ws.send(chunk, { binary: true }));
  tcp.on("close", () => ws.close());
  tcp.on("error", () => ws.terminate());
  ws.on("close", () => tcp.end());
  ws.on("error", () => tcp.destroy());
}

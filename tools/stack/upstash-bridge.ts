import http from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { type RespArg, RespClient, RespError, type RespValue } from "./resp.ts";

/** Options of {@link startUpstashBridge}. */
export interface UpstashBridgeOptions {
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Loopback address to bind; defaults to 127.0.0.1. */
  host?: string;
  redis: { host: string; port: number };
  /**
   * The secret every request's bearer token starts with. `<token>` and `<token>.0` reach Redis
   * database 0, `<token>.<n>` database n: each local Postgres database gets a Redis database of
   * its own this way (see {@link bridgeToken}), as each deployment has its own Upstash database.
   */
  token: string;
}

/** Databases a token may name; the stack starts Redis with this many. */
export const REDIS_DATABASES = 64;

/** The bearer token that reaches Redis database `db` through a bridge whose secret is `secret`. */
export function bridgeToken(secret: string, db: number): string {
  return `${secret}.${db}`;
}

/** A running bridge. */
export interface UpstashBridge {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Every HTTP request shares one Redis connection, so commands that park the connection
 * (blocking pops, WAIT, subscriptions) or change its state for everyone (MULTI/WATCH outside
 * `/multi-exec`, SELECT, HELLO, CLIENT REPLY, QUIT) are refused instead of forwarded.
 */
const REFUSED = new Set([
  "blpop",
  "brpop",
  "brpoplpush",
  "blmove",
  "blmpop",
  "bzpopmin",
  "bzpopmax",
  "bzmpop",
  "wait",
  "waitaof",
  "subscribe",
  "psubscribe",
  "ssubscribe",
  "unsubscribe",
  "punsubscribe",
  "sunsubscribe",
  "monitor",
  "sync",
  "psync",
  "multi",
  "exec",
  "discard",
  "watch",
  "unwatch",
  "select",
  "hello",
  "reset",
  "quit",
]);

class BadRequest extends Error {}

/** Returns why a command may not run on the shared connection, or null when it may. */
function refusal(cmd: readonly RespArg[]): string | null {
  const name = String(cmd[0]).toLowerCase();
  if (REFUSED.has(name)) {
    return `ERR ${name.toUpperCase()} is not supported by the local Upstash bridge: it blocks or changes the Redis connection all requests share`;
  }
  if (name === "xread" || name === "xreadgroup") {
    for (const arg of cmd) {
      if (typeof arg === "string" && arg.toLowerCase() === "block") {
        return `ERR ${name.toUpperCase()} with BLOCK is not supported by the local Upstash bridge: the Redis connection is shared`;
      }
    }
  }
  if (name === "client" && String(cmd[1]).toLowerCase() === "reply") {
    return "ERR CLIENT REPLY is not supported by the local Upstash bridge: the Redis connection is shared";
  }
  return null;
}

/** Validates one JSON command: a non-empty array of strings and numbers (booleans are stringified). */
function toCommand(raw: unknown): RespArg[] {
  if (!Array.isArray(raw) || raw.length === 0)
    throw new BadRequest("ERR a command must be a non-empty JSON array");
  for (let i = 0; i < raw.length; i++) {
    const arg: unknown = raw[i];
    if (typeof arg === "string" || typeof arg === "number") continue;
    if (typeof arg === "boolean") raw[i] = String(arg);
    else throw new BadRequest("ERR command arguments must be strings or numbers");
  }
  return raw as RespArg[];
}

function toCommandList(raw: unknown): RespArg[][] {
  if (!Array.isArray(raw) || raw.length === 0)
    throw new BadRequest("ERR expected a non-empty JSON array of commands");
  return raw.map(toCommand);
}

/** Serialises a reply straight to JSON text; base64 covers every string at any depth, but not error messages. */
function toJson(value: RespValue, base64: boolean): string {
  if (value === null) return "null";
  if (Buffer.isBuffer(value))
    return base64 ? `"${value.toString("base64")}"` : JSON.stringify(value.toString("utf8"));
  switch (typeof value) {
    case "number":
    case "bigint":
      return value.toString();
  }
  if (value instanceof RespError) return JSON.stringify(value.message);
  let out = "[";
  for (let i = 0; i < value.length; i++) {
    if (i > 0) out += ",";
    out += toJson(value[i] as RespValue, base64);
  }
  return `${out}]`;
}

function entryJson(value: RespValue, base64: boolean): string {
  return value instanceof RespError
    ? `{"error":${JSON.stringify(value.message)}}`
    : `{"result":${toJson(value, base64)}}`;
}

function send(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, [
    "Content-Type",
    "application/json",
    "Content-Length",
    String(Buffer.byteLength(body)),
  ]);
  res.end(body);
}

function errorBody(message: string): string {
  return `{"error":${JSON.stringify(message)}}`;
}

async function runOne(redis: RespClient, cmd: RespArg[], base64: boolean): Promise<[number, string]> {
  const refused = refusal(cmd);
  if (refused !== null) return [400, errorBody(refused)];
  const reply = await redis.send(cmd);
  if (reply instanceof RespError) return [400, errorBody(reply.message)];
  return [200, `{"result":${toJson(reply, base64)}}`];
}

async function runPipeline(redis: RespClient, cmds: RespArg[][], base64: boolean): Promise<string> {
  const allowed: RespArg[][] = [];
  const refusals: (string | null)[] = cmds.map((cmd) => {
    const refused = refusal(cmd);
    if (refused === null) allowed.push(cmd);
    return refused;
  });
  const replies = await redis.sendMany(allowed);
  let next = 0;
  let out = "[";
  for (let i = 0; i < cmds.length; i++) {
    if (i > 0) out += ",";
    const refused = refusals[i];
    out += refused == null ? entryJson(replies[next++] as RespValue, base64) : errorBody(refused);
  }
  return `${out}]`;
}

async function runMultiExec(
  redis: RespClient,
  cmds: RespArg[][],
  base64: boolean,
): Promise<[number, string]> {
  for (const cmd of cmds) {
    const refused = refusal(cmd);
    if (refused !== null) return [400, errorBody(refused)];
  }
  // One write: MULTI, the commands and EXEC reach Redis back to back, so no other request's
  // command can land inside the transaction on the shared connection.
  const replies = await redis.sendMany([["MULTI"], ...cmds, ["EXEC"]]);
  const exec = replies[replies.length - 1] as RespValue;
  if (exec instanceof RespError) {
    const cause = replies.find((r, i) => i > 0 && r instanceof RespError && r !== exec) as
      | RespError
      | undefined;
    return [400, errorBody(cause === undefined ? exec.message : `${exec.message} ${cause.message}`)];
  }
  if (!Array.isArray(exec)) return [400, errorBody("ERR transaction aborted")];
  return [200, `[${exec.map((r) => entryJson(r, base64)).join(",")}]`];
}

/** Upstash's path form: `/set/foo/bar`; a POST body is appended as the last argument, then query parameters. */
function pathCommand(url: string, body: Buffer): RespArg[] {
  const q = url.indexOf("?");
  const cmd: RespArg[] = (q < 0 ? url : url.slice(0, q))
    .split("/")
    .filter((s) => s !== "")
    .map((s) => decodeURIComponent(s));
  if (cmd.length === 0) throw new BadRequest("ERR no command in the path");
  if (body.length > 0) cmd.push(body);
  if (q >= 0) {
    for (const [key, value] of new URLSearchParams(url.slice(q + 1))) {
      cmd.push(key);
      if (value !== "") cmd.push(value);
    }
  }
  return cmd;
}

/**
 * Starts an HTTP server speaking Upstash's REST protocol (`POST /`, `/pipeline`, `/multi-exec`,
 * path-style commands) in front of a real Redis, so `@upstash/redis` runs unchanged locally.
 * Binds to loopback only; all requests share one pipelined Redis connection.
 */
export async function startUpstashBridge(opts: UpstashBridgeOptions): Promise<UpstashBridge> {
  const host = opts.host ?? "127.0.0.1";
  // A bearer token over plain HTTP is only acceptable when nothing off this machine can connect.
  if (!(host === "localhost" || host === "::1" || host.startsWith("127."))) {
    throw new Error(`the Upstash bridge binds to loopback only, not ${host}`);
  }
  const connections = new Map<number, Promise<RespClient>>();
  const connection = (db: number): Promise<RespClient> => {
    let client = connections.get(db);
    if (!client) {
      client = RespClient.connect({ ...opts.redis, db });
      client.catch(() => connections.delete(db));
      connections.set(db, client);
    }
    return client;
  };
  await connection(0);
  const expectedAuth = `Bearer ${opts.token}`;
  const unauthorized = errorBody("Unauthorized");
  /** The database a request's token names, or undefined when the token is wrong. */
  const databaseOf = (auth: string | undefined): number | undefined => {
    if (auth === expectedAuth) return 0;
    if (!auth?.startsWith(`${expectedAuth}.`)) return undefined;
    const suffix = auth.slice(expectedAuth.length + 1);
    const db = Number(suffix);
    return /^\d{1,2}$/.test(suffix) && db < REDIS_DATABASES ? db : undefined;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> => {
    const db = databaseOf(req.headers.authorization);
    if (db === undefined) return send(res, 401, unauthorized);
    const encoding = req.headers["upstash-encoding"];
    const base64 = typeof encoding === "string" && encoding.toLowerCase() === "base64";
    const url = req.url ?? "/";
    try {
      const redis = await connection(db);
      if (url === "/" || url === "/pipeline" || url === "/multi-exec") {
        if (req.method !== "POST") return send(res, 405, errorBody("ERR use POST"));
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.toString("utf8"));
        } catch {
          return send(res, 400, errorBody("ERR request body is not valid JSON"));
        }
        if (url === "/") {
          const [status, out] = await runOne(redis, toCommand(parsed), base64);
          return send(res, status, out);
        }
        if (url === "/pipeline")
          return send(res, 200, await runPipeline(redis, toCommandList(parsed), base64));
        const [status, out] = await runMultiExec(redis, toCommandList(parsed), base64);
        return send(res, status, out);
      }
      const [status, out] = await runOne(redis, pathCommand(url, body), base64);
      return send(res, status, out);
    } catch (err) {
      if (err instanceof BadRequest) return send(res, 400, errorBody(err.message));
      if (err instanceof URIError)
        return send(res, 400, errorBody("ERR malformed percent-encoding in the path"));
      return send(res, 503, errorBody(`ERR local Upstash bridge: ${(err as Error).message}`));
    }
  };

  const server = http.createServer({ keepAlive: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      handle(req, res, body).catch((err: unknown) => res.destroy(err as Error));
    });
  });
  // Clients keep connections open between commands; a short idle timeout would make them
  // reconnect (and race the close) under load. Headers must be allowed longer than that.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await Promise.all([...connections.values()].map(async (c) => (await c).close()));
    },
  };
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Runs the bridge as its own process: prints one JSON line `{url, port}` once it listens. */
async function main(args: string[]): Promise<void> {
  const token = argValue(args, "--token") ?? process.env.UPSTASH_BRIDGE_TOKEN;
  if (token === undefined || token === "") throw new Error("pass --token or set UPSTASH_BRIDGE_TOKEN");
  const bridge = await startUpstashBridge({
    port: Number(argValue(args, "--port") ?? 0),
    host: argValue(args, "--host"),
    redis: {
      host: argValue(args, "--redis-host") ?? "127.0.0.1",
      port: Number(argValue(args, "--redis-port") ?? 6390),
    },
    token,
  });
  process.stdout.write(`${JSON.stringify({ url: bridge.url, port: bridge.port })}\n`);
  const stop = () => {
    bridge.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Redis } from "@upstash/redis";
import { Command, integer } from "../lib/cli";
import { ensureStack } from "../stack/stack.ts";
import { cpuSeconds } from "./lib/drive.ts";

interface Row {
  workload: string;
  inFlight: number;
  commandsPerSec: number;
  p50?: number;
  p99?: number;
  bridgeCpu?: number;
  clientCpu?: number;
}

interface Measured {
  opsPerSec: number;
  p50: number;
  p99: number;
  bridgeCpu: number | undefined;
  clientCpu: number;
}

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** Starts the bridge in its own process, so it does not share a core or an event loop with the load. */
async function spawnBridge(redisPort: number, token: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "tools/stack/upstash-bridge.ts", "--port", "0", "--redis-port", String(redisPort)],
    {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, UPSTASH_BRIDGE_TOKEN: token },
    },
  );
  const firstLine = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once("line", (line) => {
      lines.close();
      resolve(line);
    });
    child.once("exit", (code) => reject(new Error(`bridge exited with ${code} before listening`)));
  });
  return { url: (JSON.parse(firstLine) as { url: string }).url, child };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

async function redisBenchmark(port: number, extra: string[]): Promise<number> {
  const args = ["-p", String(port), "-t", "get", "-c", "32", "-n", "200000", "-q", ...extra];
  const child = spawn("redis-benchmark", args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (s: string) => {
    out += s;
  });
  await new Promise((resolve) => child.once("close", resolve));
  // With -q it prints \r-separated progress and then "GET: N requests per second, p50=…".
  const match = /GET: ([\d.]+) requests per second/.exec(out);
  if (match === null) throw new Error(`could not parse redis-benchmark output: ${out}`);
  return Number(match[1]);
}

/**
 * Runs `total` operations spread over `workers` (one loop each, one operation in flight per loop)
 * and reports throughput, latency percentiles and the CPU used by the bridge and by this process.
 */
async function drive(
  total: number,
  workers: (() => Promise<unknown>)[],
  bridgePid?: number,
): Promise<Measured> {
  const latencies = new Float64Array(total);
  let next = 0;
  const loop = async (op: () => Promise<unknown>) => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      await op();
      latencies[i] = performance.now() - t0;
    }
  };
  const bridgeBefore = cpuSeconds(bridgePid);
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  await Promise.all(workers.map(loop));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const bridgeAfter = cpuSeconds(bridgePid);
  latencies.sort();
  const at = (p: number) => latencies[Math.min(total - 1, Math.floor(total * p))] as number;
  return {
    opsPerSec: total / seconds,
    p50: at(0.5),
    p99: at(0.99),
    bridgeCpu:
      bridgeBefore === undefined || bridgeAfter === undefined
        ? undefined
        : (bridgeAfter - bridgeBefore) / seconds,
    clientCpu: (cpu.user + cpu.system) / 1e6 / seconds,
  };
}

/**
 * A bare keep-alive HTTP/1.1 connection sending one canned request at a time: the cheapest
 * possible client, to see what the bridge itself can serve without fetch's per-request cost.
 */
class RawHttpConnection {
  private buffer = "";
  private waiting: ((response: string) => void) | null = null;

  private constructor(
    private readonly socket: net.Socket,
    private readonly request: string,
  ) {
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => this.onData(chunk));
  }

  static async open(url: string, request: string): Promise<RawHttpConnection> {
    const { hostname, port } = new URL(url);
    const socket = net.connect({ host: hostname, port: Number(port), noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new RawHttpConnection(socket, request);
  }

  /** Sends the request and resolves with the whole response (status line, headers, body). */
  send(): Promise<string> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.socket.write(this.request);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    const headerEnd = this.buffer.indexOf("\r\n\r\n");
    if (headerEnd < 0) return;
    const length = /\r\ncontent-length: *(\d+)/i.exec(this.buffer.slice(0, headerEnd));
    const total = headerEnd + 4 + Number(length?.[1] ?? 0);
    if (this.buffer.length < total) return;
    const response = this.buffer.slice(0, total);
    this.buffer = this.buffer.slice(total);
    const done = this.waiting;
    this.waiting = null;
    done?.(response);
  }
}

/**
 * A minimal `fetch` over a keep-alive `node:http` agent: just what `@upstash/redis` reads of a
 * response. It lets one row measure the client and the bridge without Node's own `fetch`, whose CPU
 * cost per request, not the bridge, caps one-request-per-command traffic from Node.
 */
function keepAliveFetch(sockets: number): typeof fetch {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const shim = (input: string | URL | Request, init?: RequestInit) =>
    new Promise<Response>((resolve, reject) => {
      const req = http.request(
        String(input),
        { method: init?.method ?? "GET", headers: init?.headers as Record<string, string>, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const status = res.statusCode ?? 0;
            resolve({
              ok: status >= 200 && status < 300,
              status,
              headers: {
                get: (name: string) => (res.headers[name.toLowerCase()] as string | undefined) ?? null,
              },
              text: async () => text,
              json: async () => JSON.parse(text),
            } as unknown as Response);
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(init?.body as string | undefined);
    });
  return shim as typeof fetch;
}

function client(url: string, token: string, enableAutoPipelining: boolean): Redis {
  // As the Worker configures it (telemetry off), with no retries so a failure surfaces at once.
  return new Redis({ url, token, retry: { retries: 0 }, enableAutoPipelining, enableTelemetry: false });
}

function row(workload: string, inFlight: number, m: Measured, commandsPerOp = 1): Row {
  return {
    workload,
    inFlight,
    commandsPerSec: m.opsPerSec * commandsPerOp,
    p50: m.p50,
    p99: m.p99,
    bridgeCpu: m.bridgeCpu,
    clientCpu: m.clientCpu,
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number | undefined) => (n === undefined ? "–" : n.toFixed(2));
const pct = (n: number | undefined) => (n === undefined ? "–" : `${Math.round(n * 100)} %`);
const ratio = (n: number, base: number) => `${(n / base).toFixed(3)}`;

function table(rows: Row[], rbPlain: number, rbPipelined: number): string {
  return [
    "| Workload | In flight | Commands/s | p50 ms | p99 ms | Bridge CPU | Client CPU | ÷ redis-benchmark | ÷ redis-benchmark -P 16 |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.workload} | ${r.inFlight} | ${fmt(r.commandsPerSec)} | ${ms(r.p50)} | ${ms(r.p99)} | ${pct(r.bridgeCpu)} | ${pct(r.clientCpu)} | ${ratio(r.commandsPerSec, rbPlain)} | ${ratio(r.commandsPerSec, rbPipelined)} |`,
    ),
  ].join("\n");
}

/**
 * `npm run bench -- bridge [--count N]`: redis-benchmark against the stack's Redis, side by side
 * with GETs through the Upstash REST bridge (started here in its own process) from a bare HTTP
 * client, from Node's fetch, and from `@upstash/redis` with and without auto-pipelining.
 * Reports only; never fails on performance.
 */
export async function run(args: string[]): Promise<void> {
  const cli = new Command({
    prog: "npm run bench -- bridge",
    description:
      "redis-benchmark against the stack's Redis, side by side with GETs through the Upstash REST bridge.",
  });
  cli.add_argument("--count", {
    type: integer(100, 100_000_000),
    default: 100_000,
    help: "GETs per row (default: %(default)s)",
  });
  const { count } = cli.parse_args(args) as { count: number };
  const warmUp = Math.min(5_000, count);
  const concurrency = 32;
  const stack = await ensureStack();
  const token = randomBytes(16).toString("hex");
  const bridge = await spawnBridge(stack.redisPort, token);
  const pid = bridge.child.pid;
  const prefix = `bench:bridge:${randomBytes(4).toString("hex")}`;
  const key = `${prefix}:courier`;
  const geoKey = `${prefix}:geo`;
  const plain = client(bridge.url, token, false);
  try {
    const rows: Row[] = [];
    const rbPlain = await redisBenchmark(stack.redisPort, []);
    rows.push({ workload: "redis-benchmark GET", inFlight: concurrency, commandsPerSec: rbPlain });
    const rbPipelined = await redisBenchmark(stack.redisPort, ["-P", "16"]);
    rows.push({
      workload: "redis-benchmark GET -P 16",
      inFlight: concurrency * 16,
      commandsPerSec: rbPipelined,
    });

    const value = JSON.stringify({ id: "c-1042", lat: 52.520008, lng: 13.404954, ts: 1_763_870_400_000 });
    await plain.set(key, value);

    const body = JSON.stringify(["GET", key]);
    const request =
      `POST / HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n` +
      `Upstash-Encoding: base64\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const conns = await Promise.all(
      Array.from({ length: concurrency }, () => RawHttpConnection.open(bridge.url, request)),
    );
    const expected = `{"result":"${Buffer.from(value).toString("base64")}"}`;
    const sample = await (conns[0] as RawHttpConnection).send();
    if (!sample.startsWith("HTTP/1.1 200") || !sample.endsWith(expected)) {
      throw new Error(`unexpected bridge response: ${sample}`);
    }
    const rawOps = conns.map((c) => () => c.send());
    await drive(warmUp, rawOps);
    rows.push(row("bare HTTP/1.1 client, POST / GET", concurrency, await drive(count, rawOps, pid)));
    for (const c of conns) c.close();

    const fetchInit = {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "upstash-encoding": "base64",
      },
      body,
    };
    const fetchOp = async () => (await fetch(bridge.url, fetchInit)).text();
    const fetchOps = Array.from({ length: concurrency }, () => fetchOp);
    await drive(warmUp, fetchOps);
    rows.push(row("Node fetch, POST / GET", concurrency, await drive(count, fetchOps, pid)));

    const getOps = (redis: Redis) => Array.from({ length: concurrency }, () => () => redis.get(key));
    await drive(warmUp, getOps(plain));
    rows.push(
      row("@upstash/redis GET, auto-pipelining off", concurrency, await drive(count, getOps(plain), pid)),
    );

    const nodeFetch = globalThis.fetch;
    globalThis.fetch = keepAliveFetch(concurrency);
    try {
      await drive(warmUp, getOps(plain));
      rows.push(
        row(
          "@upstash/redis GET, auto-pipelining off, keep-alive node:http fetch",
          concurrency,
          await drive(count, getOps(plain), pid),
        ),
      );
    } finally {
      globalThis.fetch = nodeFetch;
    }

    const auto = client(bridge.url, token, true);
    await drive(warmUp, getOps(auto));
    rows.push(
      row("@upstash/redis GET, auto-pipelining on", concurrency, await drive(count, getOps(auto), pid)),
    );

    // Batches of 100 GEOADDs per `/pipeline` request, as a courier-position writer would send them.
    const batch = 100;
    const pipelines = 8;
    let seq = 0;
    const geoBatch = () => {
      const p = plain.pipeline();
      for (let i = 0; i < batch; i++) {
        const n = seq++;
        p.geoadd(geoKey, {
          longitude: 13 + (n % 1000) / 1000,
          latitude: 52 + (n % 997) / 1000,
          member: `c${n % 5000}`,
        });
      }
      return p.exec();
    };
    const geoOps = Array.from({ length: pipelines }, () => geoBatch);
    const batches = Math.max(10, Math.floor(count / 50));
    await drive(Math.max(1, Math.floor(batches / 20)), geoOps);
    rows.push(
      row(
        `@upstash/redis pipeline of ${batch} GEOADD`,
        pipelines * batch,
        await drive(batches, geoOps, pid),
        batch,
      ),
    );

    console.log(
      `\n${count.toLocaleString("en-US")} GETs per bridge row (${fmt(batches * batch)} GEOADDs) after warm-up; ` +
        "latency per HTTP request; CPU as a share of one core.\n",
    );
    console.log(table(rows, rbPlain, rbPipelined));
  } finally {
    await plain.del(key, geoKey).catch(() => undefined);
    await stopChild(bridge.child);
    await stack.stop();
  }
}

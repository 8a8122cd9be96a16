import { randomBytes } from "node:crypto";
import net from "node:net";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RespClient, RespError, type RespValue } from "../../tools/stack/resp.ts";
import { startUpstashBridge, type UpstashBridge } from "../../tools/stack/upstash-bridge.ts";

const redisTarget = { host: "127.0.0.1", port: Number(process.env.GEOEDGE_REDIS_PORT ?? 6390) };
const token = randomBytes(16).toString("hex");
const prefix = `test:bridge:${randomBytes(6).toString("hex")}`;
let seq = 0;
/** A key no other test (or run) uses. */
const key = (name: string) => `${prefix}:${name}:${seq++}`;

let bridge: UpstashBridge;
let direct: RespClient;
/** The production client as the app configures it (auto-pipelining and deserialisation on). */
let redis: Redis;
/** Same client without JSON deserialisation, to see exactly the strings the bridge returned. */
let raw: Redis;
/** One command per HTTP request, so `/` is exercised on its own. */
let single: Redis;

const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");

/** What Upstash's base64 encoding must turn a RESP reply into. */
function expectedBase64(value: RespValue): unknown {
  if (Buffer.isBuffer(value)) return value.toString("base64");
  if (Array.isArray(value)) return value.map(expectedBase64);
  if (value instanceof RespError) return value.message;
  return value;
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${bridge.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "upstash-encoding": "base64", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as unknown };
}

beforeAll(async () => {
  bridge = await startUpstashBridge({ port: 0, redis: redisTarget, token });
  direct = await RespClient.connect(redisTarget);
  const base = { url: bridge.url, token, retry: { retries: 0 }, enableTelemetry: false } as const;
  redis = new Redis(base);
  raw = new Redis({ ...base, automaticDeserialization: false });
  single = new Redis({ ...base, enableAutoPipelining: false, automaticDeserialization: false });
});

afterAll(async () => {
  let cursor = "0";
  do {
    const [next, keys] = (await direct.send(["SCAN", cursor, "MATCH", `${prefix}:*`, "COUNT", 1000])) as [
      Buffer,
      Buffer[],
    ];
    cursor = next.toString();
    if (keys.length > 0) await direct.send(["DEL", ...keys]);
  } while (cursor !== "0");
  await direct?.close();
  await bridge?.close();
});

describe("base64 encoding", () => {
  it("round-trips unicode and control characters through the client", async () => {
    const k = key("unicode");
    const value = 'héllo wörld 🚚 日本 \u0000\u0001\n\r\t"\\ end';
    expect(await single.set(k, value)).toBe("OK");
    expect(await single.get(k)).toBe(value);
    expect(await raw.get(k)).toBe(value);
    expect(((await direct.send(["GET", k])) as Buffer).toString("utf8")).toBe(value);
  });

  it("encodes the raw bytes of non-UTF-8 values", async () => {
    const k = key("binary");
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x0d, 0x0a, 0xc3]);
    await direct.send(["SET", k, bytes]);
    const { status, json } = await post("/", ["GET", k]);
    expect(status).toBe(200);
    expect(json).toEqual({ result: bytes.toString("base64") });
  });

  it("encodes simple strings such as OK, PONG and TYPE replies", async () => {
    const k = key("simple");
    expect((await post("/", ["SET", k, "v"])).json).toEqual({ result: b64("OK") });
    expect((await post("/", ["PING"])).json).toEqual({ result: b64("PONG") });
    expect((await post("/", ["TYPE", k])).json).toEqual({ result: b64("string") });
    expect(await single.ping()).toBe("PONG");
  });

  it("encodes float replies (ZSCORE, INCRBYFLOAT, GEODIST) as strings", async () => {
    const z = key("z");
    const f = key("f");
    const g = key("g");
    await single.zadd(z, { score: 1.5, member: "m" });
    await single.geoadd(
      g,
      { longitude: 13.4, latitude: 52.52, member: "a" },
      { longitude: 13.5, latitude: 52.5, member: "b" },
    );
    expect((await post("/", ["ZSCORE", z, "m"])).json).toEqual({ result: b64("1.5") });
    expect((await post("/", ["INCRBYFLOAT", f, "0.1"])).json).toEqual({ result: b64("0.1") });
    const dist = (await post("/", ["GEODIST", g, "a", "b", "km"])).json as { result: string };
    expect(Buffer.from(dist.result, "base64").toString()).toMatch(/^7\.\d{4}$/);
    expect(await single.incrbyfloat(f, 0.25)).toBe("0.35");
    expect(await redis.zscore(z, "m")).toBe(1.5);
  });

  it("answers UTF-8 strings without the encoding header", async () => {
    const k = key("utf8");
    await direct.send(["SET", k, "grüße"]);
    const { json } = await post("/", ["GET", k], { "upstash-encoding": "" });
    expect(json).toEqual({ result: "grüße" });
    expect((await post("/", ["PING"], { "upstash-encoding": "" })).json).toEqual({ result: "PONG" });
  });
});

describe("reply shapes", () => {
  it("returns null for a missing key", async () => {
    expect(await single.get(key("missing"))).toBeNull();
    expect((await post("/", ["GET", key("missing")])).json).toEqual({ result: null });
  });

  it("returns integers as JSON numbers, exactly beyond 2^53", async () => {
    const k = key("int");
    expect(await single.incr(k)).toBe(1);
    expect((await post("/", ["INCRBY", k, 41])).json).toEqual({ result: 42 });
    const big = key("big");
    await direct.send(["SET", big, "9007199254740994"]);
    expect((await post("/", ["INCR", big])).text).toBe('{"result":9007199254740995}');
  });

  it("nests arrays for GEOSEARCH WITHCOORD WITHDIST", async () => {
    const g = key("geo");
    await single.geoadd(
      g,
      { longitude: 13.405, latitude: 52.52, member: "near" },
      { longitude: 13.45, latitude: 52.51, member: "mid" },
      { longitude: 2.35, latitude: 48.85, member: "paris" },
    );
    const cmd = [
      "GEOSEARCH",
      g,
      "FROMLONLAT",
      13.4,
      52.52,
      "BYRADIUS",
      10,
      "km",
      "WITHCOORD",
      "WITHDIST",
      "ASC",
    ];
    const fromBridge = (await post("/", cmd)).json as { result: [string, string, [string, string]][] };
    expect(fromBridge.result).toEqual(expectedBase64(await direct.send(cmd)));
    expect(fromBridge.result.map((r) => Buffer.from(r[0], "base64").toString())).toEqual(["near", "mid"]);
    expect(fromBridge.result[0]?.[2]).toHaveLength(2);

    const found = await redis.geosearch(
      g,
      { type: "FROMLONLAT", coordinate: { lon: 13.4, lat: 52.52 } },
      { type: "BYRADIUS", radius: 10, radiusType: "KM" },
      "ASC",
      { withCoord: true, withDist: true },
    );
    expect(found.map((r) => r.member)).toEqual(["near", "mid"]);
    expect(found[0]?.dist).toBeCloseTo(0.34, 1);
    expect(found[0]?.coord?.long).toBeCloseTo(13.405, 4);
  });

  it("keeps null inside GEOPOS for a missing member", async () => {
    const g = key("pos");
    await single.geoadd(g, { longitude: 13.4, latitude: 52.52, member: "a" });
    const { json } = await post("/", ["GEOPOS", g, "a", "nobody"]);
    const [pos, missing] = (json as { result: [[string, string], null] }).result;
    expect(missing).toBeNull();
    expect(Number(Buffer.from(pos[0], "base64").toString())).toBeCloseTo(13.4, 5);
    const viaClient = (await single.geopos(g, "a", "nobody")) as unknown as [[string, string], null];
    expect(viaClient[1]).toBeNull();
    expect(Number(viaClient[0][1])).toBeCloseTo(52.52, 5);
  });

  it("returns HGETALL as a flat array, which the client turns into an object", async () => {
    const h = key("hash");
    await single.hset(h, { name: "Ada", n: 2 });
    const { json } = await post("/", ["HGETALL", h]);
    expect(json).toEqual({ result: expectedBase64(await direct.send(["HGETALL", h])) });
    expect((json as { result: string[] }).result).toHaveLength(4);
    expect(await redis.hgetall(h)).toEqual({ name: "Ada", n: 2 });
  });

  it("matches what Redis answers directly for sorted-set ranges", async () => {
    const z = key("range");
    await direct.send(["ZADD", z, 1, "a", 2.5, "b", 10, "c"]);
    const cmd = ["ZRANGE", z, 0, -1, "WITHSCORES"];
    expect((await post("/", cmd)).json).toEqual({ result: expectedBase64(await direct.send(cmd)) });
  });

  it("carries a multi-megabyte value intact", async () => {
    const k = key("large");
    const value = randomBytes(3 * 1024 * 1024).toString("base64");
    await single.set(k, value);
    expect(await single.get(k)).toBe(value);
    expect(((await direct.send(["GET", k])) as Buffer).toString()).toBe(value);
  });
});

describe("pipeline and multi-exec", () => {
  it("reports a per-command error in the middle of a pipeline", async () => {
    const k = key("pipe");
    const results = await raw.pipeline().set(k, "text").incr(k).get(k).exec({ keepErrors: true });
    expect(results[0]).toEqual({ result: "OK", error: undefined });
    expect(results[1]?.error).toBe("ERR value is not an integer or out of range");
    expect(results[2]).toEqual({ result: "text", error: undefined });
    await expect(raw.pipeline().get(k).incr(k).exec()).rejects.toThrow(
      "Command 2 [ incr ] failed: ERR value is not an integer or out of range",
    );
  });

  it("answers /pipeline with HTTP 200 and one entry per command", async () => {
    const k = key("pipe-raw");
    const { status, json } = await post("/pipeline", [
      ["SET", k, "1"],
      ["LPUSH", k, "x"],
      ["GET", key("none")],
      ["BLPOP", k, 0],
    ]);
    expect(status).toBe(200);
    expect(json).toEqual([
      { result: b64("OK") },
      { error: "WRONGTYPE Operation against a key holding the wrong kind of value" },
      { result: null },
      { error: expect.stringMatching(/^ERR BLPOP is not supported/) },
    ]);
  });

  it("runs multi().exec() as a transaction", async () => {
    const k = key("tx");
    expect(await redis.multi().set(k, 1).incr(k).get(k).exec()).toEqual(["OK", 2, 2]);
    const mixed = await raw.multi().set(k, "text").incr(k).get(k).exec({ keepErrors: true });
    expect(mixed.map((r) => r.error ?? null)).toEqual([
      null,
      "ERR value is not an integer or out of range",
      null,
    ]);
    expect(mixed[2]?.result).toBe("text");
  });

  it("fails the whole transaction when Redis aborts EXEC", async () => {
    const k = key("abort");
    const { status, json } = await post("/multi-exec", [
      ["SET", k, "1"],
      ["NOSUCHCOMMAND", k],
    ]);
    expect(status).toBe(400);
    expect((json as { error: string }).error).toMatch(/^EXECABORT .*unknown command/);
    expect(await single.get(k)).toBeNull();
    await expect(raw.multi().set(k, 1).exec()).resolves.toEqual(["OK"]);
  });

  it("refuses blocking commands inside a transaction", async () => {
    const { status, json } = await post("/multi-exec", [["BRPOP", key("l"), 0]]);
    expect(status).toBe(400);
    expect((json as { error: string }).error).toMatch(/not supported/);
  });
});

describe("errors and auth", () => {
  it("turns a failed single command into HTTP 400 with the Redis message", async () => {
    const k = key("err");
    await single.set(k, "abc");
    await expect(single.incr(k)).rejects.toThrow("ERR value is not an integer or out of range");
    const { status, json } = await post("/", ["INCR", k]);
    expect(status).toBe(400);
    expect(json).toEqual({ error: "ERR value is not an integer or out of range" });
  });

  it("refuses blocking and connection-state commands on the shared connection", async () => {
    await expect(single.exec(["BLPOP", key("q"), 0])).rejects.toThrow(/BLPOP is not supported/);
    for (const cmd of [
      ["XREAD", "BLOCK", 0, "STREAMS", key("s"), "$"],
      ["SUBSCRIBE", "c"],
      ["MULTI"],
      ["SELECT", 1],
    ]) {
      const { status, json } = await post("/", cmd);
      expect(status).toBe(400);
      expect((json as { error: string }).error).toMatch(/not supported by the local Upstash bridge/);
    }
    expect((await post("/", ["XREAD", "COUNT", 1, "STREAMS", key("s"), "0"])).json).toEqual({ result: null });
  });

  it.each(["/", "/pipeline", "/multi-exec", "/get/anything"])(
    "requires the bearer token on %s",
    async (path) => {
      const body = path === "/" ? '["PING"]' : '[["PING"]]';
      for (const authorization of [undefined, "Bearer wrong", token, `Basic ${token}`]) {
        const res = await fetch(`${bridge.url}${path}`, {
          method: "POST",
          headers: authorization === undefined ? {} : { authorization },
          body,
        });
        expect(res.status).toBe(401);
        expect(await res.json()).toEqual({ error: "Unauthorized" });
      }
      const ok = await fetch(`${bridge.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        body: path.startsWith("/get") ? "" : body,
      });
      expect(ok.status).toBe(200);
    },
  );

  it.each(["/", "/pipeline", "/multi-exec"])("answers 400 to a body that is not JSON on %s", async (path) => {
    const { status, json } = await post(path, "[not json");
    expect(status).toBe(400);
    expect(json).toEqual({ error: expect.stringMatching(/^ERR .*JSON/) });
    expect((await post(path, { not: "an array" })).status).toBe(400);
    expect((await post(path, [])).status).toBe(400);
  });

  it("supports Upstash's path-style commands", async () => {
    const k = key("path");
    const auth = { authorization: `Bearer ${token}` };
    const set = await fetch(`${bridge.url}/set/${encodeURIComponent(k)}/a%20b`, { headers: auth });
    expect(await set.json()).toEqual({ result: "OK" });
    const posted = await fetch(`${bridge.url}/set/${encodeURIComponent(k)}?EX=100`, {
      method: "POST",
      headers: auth,
      body: "posted value",
    });
    expect(await posted.json()).toEqual({ result: "OK" });
    expect(await single.get(k)).toBe("posted value");
    expect(await single.ttl(k)).toBeGreaterThan(90);
  });
});

describe("RespClient", () => {
  it("returns error replies as values and keeps order in sendMany", async () => {
    const k = key("many");
    const replies = await direct.sendMany([
      ["SET", k, "x"],
      ["INCR", k],
      ["GET", k],
      ["EXISTS", k, key("no")],
    ]);
    expect(replies[0]).toEqual(Buffer.from("OK"));
    expect(replies[1]).toBeInstanceOf(RespError);
    expect((replies[1] as RespError).message).toBe("ERR value is not an integer or out of range");
    expect(replies[2]).toEqual(Buffer.from("x"));
    expect(replies[3]).toBe(1);
  });

  it("reads integers as numbers up to 2^53 - 1 and as bigints beyond, either sign", async () => {
    const k = key("ints");
    for (const [start, expected] of [
      ["9007199254740990", 9007199254740991],
      ["9007199254740991", 9007199254740992n],
      ["-9007199254740990", -9007199254740989],
      ["-9007199254740993", -9007199254740992n],
      ["3471579339700058", 3471579339700059],
    ] as const) {
      await direct.send(["SET", k, start]);
      expect(await direct.send(["INCR", k])).toBe(expected);
    }
  });

  it("parses replies split into arbitrary pieces", async () => {
    const big = randomBytes(200_000);
    const head = Buffer.from(
      `*5\r\n$5\r\nhello\r\n*2\r\n:42\r\n$-1\r\n-ERR boom\r\n+OK\r\n$${big.length}\r\n`,
    );
    const tail = Buffer.from("\r\n:-7\r\n*-1\r\n*0\r\n");
    // Headers byte by byte, the big bulk in uneven slices, its CRLF and the rest byte by byte again.
    const pieces: Buffer[] = [];
    for (let i = 0; i < head.length; i++) pieces.push(head.subarray(i, i + 1));
    for (let pos = 0; pos < big.length; pos += 9_973) pieces.push(big.subarray(pos, pos + 9_973));
    for (let i = 0; i < tail.length; i++) pieces.push(tail.subarray(i, i + 1));
    const server = net.createServer((socket) => {
      socket.setNoDelay(true);
      socket.once("data", async () => {
        // Each piece on its own turn of the event loop, so the client's reads see the splits.
        for (const piece of pieces) {
          socket.write(piece);
          await new Promise((r) => setImmediate(r));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const fake = await RespClient.connect({
      host: "127.0.0.1",
      port: (server.address() as net.AddressInfo).port,
    });
    const [first, second, third, fourth] = await fake.sendMany([["A"], ["B"], ["C"], ["D"]]);
    expect(first).toEqual([
      Buffer.from("hello"),
      [42, null],
      new RespError("ERR boom"),
      Buffer.from("OK"),
      big,
    ]);
    expect(second).toBe(-7);
    expect(third).toBeNull();
    expect(fourth).toEqual([]);
    await fake.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it("fails pending commands when the connection drops and reconnects for the next", async () => {
    const victim = await RespClient.connect(redisTarget);
    const id = await victim.send(["CLIENT", "ID"]);
    const blocked = expect(victim.send(["BLPOP", key("never"), 0])).rejects.toThrow(
      "Redis connection closed",
    );
    await direct.send(["CLIENT", "KILL", "ID", id as number]);
    await blocked;
    expect(await victim.send(["PING"])).toEqual(Buffer.from("PONG"));
    expect(await victim.send(["CLIENT", "ID"])).not.toBe(id);
    await victim.close();
  });
});

import net from "node:net";

/** An error reply from Redis (`-ERR …`). Returned as a value, never thrown by the parser. */
export class RespError {
  constructor(readonly message: string) {}
}

/**
 * A RESP2 reply as raw bytes: bulk and simple strings are Buffers, integers are numbers
 * (bigint outside the safe range, so 64-bit counters survive), nil is null. Small Buffers are
 * views into the socket's read chunk (no copy); copy one before keeping it for long.
 */
export type RespValue = Buffer | number | bigint | null | RespError | RespValue[];

/** One command argument; numbers are sent as their decimal text. */
export type RespArg = string | number | Buffer;

interface Pending {
  resolve(values: RespValue[]): void;
  reject(err: Error): void;
  /** Replies still expected for this entry (1 for `send`, n for `sendMany`). */
  remaining: number;
  replies: RespValue[];
}

interface Frame {
  items: RespValue[];
  remaining: number;
}

const CR = 13;
const CRLF = "\r\n";

/** Reads a decimal header number (lengths, counts) without allocating a string. */
function readInt(buf: Buffer, start: number, end: number): number {
  let i = start;
  const negative = buf[i] === 0x2d;
  if (negative) i++;
  let n = 0;
  for (; i < end; i++) n = n * 10 + ((buf[i] as number) - 48);
  return negative ? -n : n;
}

/** Encodes commands as RESP arrays of bulk strings; a string when possible, as writes of strings are cheapest. */
function encode(cmds: readonly (readonly RespArg[])[]): string | Buffer {
  let text = "";
  let parts: (string | Buffer)[] | null = null;
  for (const args of cmds) {
    text += `*${args.length}${CRLF}`;
    for (const arg of args) {
      if (typeof arg === "string") {
        text += `$${Buffer.byteLength(arg)}${CRLF}${arg}${CRLF}`;
      } else if (typeof arg === "number") {
        const s = String(arg);
        text += `$${s.length}${CRLF}${s}${CRLF}`;
      } else {
        parts ??= [];
        parts.push(`${text}$${arg.length}${CRLF}`, arg);
        text = CRLF;
      }
    }
  }
  if (parts === null) return text;
  parts.push(text);
  return Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : p)));
}

/**
 * Incremental RESP2 parser. It never re-scans or re-concatenates what it has already consumed:
 * a bulk string split over many chunks is gathered once, so big replies stay linear.
 */
class Parser {
  private stack: Frame[] = [];
  /** Unfinished header line (`$123\r` split across chunks); always short. */
  private partialLine: Buffer | null = null;
  private bulkChunks: Buffer[] = [];
  /** Bytes (payload + CRLF) still missing from the current bulk string, or -1 when none is open. */
  private bulkMissing = -1;
  private bulkLength = 0;

  constructor(private readonly emit: (value: RespValue) => void) {}

  reset(): void {
    this.stack = [];
    this.partialLine = null;
    this.bulkChunks = [];
    this.bulkMissing = -1;
  }

  feed(input: Buffer): void {
    let chunk = input;
    let pos = 0;
    if (this.bulkMissing >= 0) {
      const take = Math.min(this.bulkMissing, chunk.length);
      this.bulkChunks.push(chunk.subarray(0, take));
      this.bulkMissing -= take;
      pos = take;
      if (this.bulkMissing > 0) return;
      const whole = Buffer.concat(this.bulkChunks);
      this.bulkChunks = [];
      this.bulkMissing = -1;
      this.push(whole.subarray(0, this.bulkLength));
    }
    if (this.partialLine !== null) {
      chunk = Buffer.concat([this.partialLine, chunk.subarray(pos)]);
      this.partialLine = null;
      pos = 0;
    }
    const end = chunk.length;
    while (pos < end) {
      const eol = chunk.indexOf(CR, pos);
      if (eol < 0 || eol + 1 >= end) {
        this.partialLine = Buffer.from(chunk.subarray(pos));
        return;
      }
      const type = chunk[pos];
      const lineStart = pos + 1;
      pos = eol + 2;
      switch (type) {
        case 0x24: {
          // `$`: bulk string
          const len = readInt(chunk, lineStart, eol);
          if (len < 0) {
            this.push(null);
          } else if (pos + len + 2 <= end) {
            this.push(chunk.subarray(pos, pos + len));
            pos += len + 2;
          } else {
            this.bulkLength = len;
            this.bulkChunks.push(chunk.subarray(pos));
            this.bulkMissing = len + 2 - (end - pos);
            return;
          }
          break;
        }
        case 0x2b: // `+`: simple string
          this.push(chunk.subarray(lineStart, eol));
          break;
        case 0x3a: {
          // `:`: integer
          // Digit by digit in a double is exact while the result is a safe integer (every partial
          // value is smaller); a GEO hash has 16 digits and fits. Beyond that, a bigint.
          const n = readInt(chunk, lineStart, eol);
          if (Number.isSafeInteger(n)) {
            this.push(n);
          } else {
            this.push(BigInt(chunk.toString("latin1", lineStart, eol)));
          }
          break;
        }
        case 0x2d: // `-`: error
          this.push(new RespError(chunk.toString("utf8", lineStart, eol)));
          break;
        case 0x2a: {
          // `*`: array
          const count = readInt(chunk, lineStart, eol);
          if (count < 0) this.push(null);
          else if (count === 0) this.push([]);
          else this.stack.push({ items: [], remaining: count });
          break;
        }
        default:
          throw new Error(`RESP protocol error: unexpected byte 0x${(type ?? 0).toString(16)}`);
      }
    }
  }

  private push(value: RespValue): void {
    let v = value;
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      if (top === undefined) {
        this.emit(v);
        return;
      }
      top.items.push(v);
      if (--top.remaining > 0) return;
      this.stack.pop();
      v = top.items;
    }
  }
}

/**
 * A pipelined RESP2 client on one TCP connection: commands are written as they come and
 * replies matched to them in FIFO order. If the connection drops, commands awaiting replies
 * fail and the next command reconnects.
 */
/** Where a client connects: a Redis server and, optionally, one of its numbered databases. */
export interface RespTarget {
  host: string;
  port: number;
  /** The database to SELECT on every connection (0 when absent). */
  db?: number;
}

export class RespClient {
  private socket: net.Socket | null = null;
  private selected: Promise<void> = Promise.resolve();
  private readonly queue: Pending[] = [];
  private head = 0;
  private readonly parser = new Parser((v) => this.onReply(v));
  private closed = false;
  private uncorkScheduled = false;

  private constructor(private readonly target: RespTarget) {}

  /** Opens a connection and resolves once it is established (and `target.db` is selected). */
  static async connect(target: RespTarget): Promise<RespClient> {
    const client = new RespClient(target);
    const socket = client.open();
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => reject(err);
      socket.once("error", fail);
      socket.once("connect", () => {
        socket.off("error", fail);
        resolve();
      });
    });
    if (target.db) await client.selected;
    return client;
  }

  /** Sends one command and resolves with its reply (error replies resolve as RespError). */
  async send(args: readonly RespArg[]): Promise<RespValue> {
    const [reply] = await this.enqueue([args]);
    return reply as RespValue;
  }

  /** Sends commands in one write, so nothing from other callers lands between them (MULTI/EXEC). */
  sendMany(cmds: readonly (readonly RespArg[])[]): Promise<RespValue[]> {
    if (cmds.length === 0) return Promise.resolve([]);
    return this.enqueue(cmds);
  }

  /** Closes the connection; commands awaiting replies fail. */
  async close(): Promise<void> {
    this.closed = true;
    const socket = this.socket;
    if (socket === null) return;
    await new Promise<void>((resolve) => {
      socket.once("close", () => resolve());
      socket.end();
      // A server that never answers the FIN must not keep us waiting.
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  }

  private enqueue(cmds: readonly (readonly RespArg[])[]): Promise<RespValue[]> {
    if (this.closed) return Promise.reject(new Error("RespClient is closed"));
    const socket = this.socket ?? this.open();
    const payload = encode(cmds);
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject, remaining: cmds.length, replies: [] });
      // Commands issued during one event-loop turn (say, requests read from many HTTP sockets in
      // one poll) leave in a single write and come back in a single read: this doubled the
      // bridge's throughput compared with one write per command.
      if (!this.uncorkScheduled) {
        this.uncorkScheduled = true;
        socket.cork();
        setImmediate(() => {
          this.uncorkScheduled = false;
          socket.uncork();
        });
      }
      socket.write(payload);
    });
  }

  private open(): net.Socket {
    const socket = net.connect({ host: this.target.host, port: this.target.port, noDelay: true });
    socket.setKeepAlive(true, 30_000);
    this.socket = socket;
    this.parser.reset();
    // Every connection (a reconnect too) starts in the target's database; SELECT is the first
    // command on the wire, so its reply is the first one read.
    if (this.target.db) {
      this.selected = new Promise((resolve, reject) => {
        this.queue.push({
          resolve: ([reply]) =>
            reply instanceof RespError
              ? reject(new Error(`SELECT ${this.target.db}: ${reply.message}`))
              : resolve(),
          reject,
          remaining: 1,
          replies: [],
        });
      });
      this.selected.catch(() => {});
      socket.write(encode([["SELECT", this.target.db]]));
    }
    socket.on("data", (chunk: Buffer) => {
      try {
        this.parser.feed(chunk);
      } catch (err) {
        socket.destroy(err as Error);
      }
    });
    socket.on("error", () => {
      // Reported through "close"; the listener stops an unhandled "error" event from crashing us.
    });
    socket.on("close", () => {
      if (this.socket === socket) this.socket = null;
      this.failPending(new Error("Redis connection closed"));
    });
    return socket;
  }

  private onReply(value: RespValue): void {
    const entry = this.queue[this.head];
    if (entry === undefined) return;
    entry.replies.push(value);
    if (--entry.remaining > 0) return;
    this.queue[this.head] = undefined as unknown as Pending;
    this.head++;
    // Compact now and then instead of shifting on every reply.
    if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    entry.resolve(entry.replies);
  }

  private failPending(err: Error): void {
    const pending = this.queue.splice(this.head);
    this.queue.length = 0;
    this.head = 0;
    for (const entry of pending) entry.reject(err);
  }
}

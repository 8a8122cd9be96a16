import {
  ArgumentParser,
  type ArgumentParserOptions,
  ArgumentTypeError,
  RawDescriptionHelpFormatter,
} from "argparse";

/**
 * The command line of every tool: `argparse` (a port of Python's), so `--help` prints help and does
 * nothing else, and a bad value ends the run with one line that names the flag and the rule
 * (`load:profiles: argument --chunk: must be an integer from 1 to 100000`), exit status 2.
 */
export class Command extends ArgumentParser {
  private readonly throws: boolean;

  /** With `throws`, a bad command line throws a {@link CommandLineError} instead (for tests). */
  constructor(options: ArgumentParserOptions & { prog: string; throws?: boolean }) {
    const { throws, ...rest } = options;
    super({ formatter_class: RawDescriptionHelpFormatter, ...rest });
    this.throws = throws ?? false;
  }

  override error(message: string): never {
    if (this.throws) throw new CommandLineError(`${this.prog}: ${message}`);
    process.stderr.write(`${this.prog}: ${message} (see --help)\n`);
    process.exit(2);
  }
}

/** The one line a {@link Command} built with `throws` would have printed before exiting. */
export class CommandLineError extends Error {}

/** A value type for an argument: parses the raw text or throws the rule it breaks. */
export type ValueType<T> = (raw: string) => T;

function fail(rule: string): never {
  throw new ArgumentTypeError(rule);
}

/** An integer from `min` to `max`. Only plain decimal digits count: `10k`, `1e3`, `0x10` are refused. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): ValueType<number> {
  return (raw) => {
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max)
      fail(`must be an integer from ${min} to ${max}`);
    return n;
  };
}

/** A finite decimal number from `min` to `max`. */
export function decimal(min: number, max: number): ValueType<number> {
  return (raw) => {
    const n = Number(raw);
    if (!/^-?(\d+\.?\d*|\.\d+)$/.test(raw.trim()) || n < min || n > max)
      fail(`must be a number from ${min} to ${max}`);
    return n;
  };
}

/** A calendar date `YYYY-MM-DD` (2019-02-30 is refused), returned as that text. */
export const calendarDate: ValueType<string> = (raw) => {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
  const date = match ? new Date(`${raw}T00:00:00Z`) : undefined;
  if (!match || !date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== raw)
    fail("must be a calendar date YYYY-MM-DD");
  return raw;
};

/** An ISO 8601 date-time (or a calendar date, read as UTC midnight), returned as epoch milliseconds. */
export const instant: ValueType<number> = (raw) => {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? Date.parse(`${calendarDate(raw)}T00:00:00Z`) : Date.parse(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(ms)) fail("must be an ISO 8601 date or date-time");
  return ms;
};

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in "500ms", "5s", "10m", "2h", "1h30m"; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (text === "" || parts.map((m) => m[0]).join("") !== text) return undefined;
  const total = parts.reduce((sum, m) => sum + Number(m[1]) * (DURATION_UNITS[m[2] ?? ""] ?? Number.NaN), 0);
  return Number.isInteger(total) ? total : undefined;
}

/** "100ms", "1s", "10m", "1h": the largest unit that divides `ms`. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** A duration from `minMs` to `maxMs`, returned in milliseconds. */
export function duration(minMs: number, maxMs: number): ValueType<number> {
  return (raw) => {
    const ms = parseDuration(raw);
    if (ms === undefined) fail("must be a duration like 500ms, 5s, 10m, 2h");
    if (ms < minMs || ms > maxMs) fail(`must be from ${formatDuration(minMs)} to ${formatDuration(maxMs)}`);
    return ms;
  };
}

/** A comma-separated list whose items each pass `item`. */
export function list<T>(item: ValueType<T>): ValueType<T[]> {
  return (raw) => {
    const items = raw.split(",").map((s) => s.trim());
    if (items.some((s) => s === "")) fail("must be a comma-separated list without empty items");
    return items.map(item);
  };
}

/** One of `choices`, compared without regard to case; returned as spelled in `choices`. */
export function oneOf<T extends string>(choices: readonly T[]): ValueType<T> {
  return (raw) => {
    const found = choices.find((c) => c.toLowerCase() === raw.toLowerCase());
    if (found === undefined) fail(`must be one of ${choices.join(", ")}`);
    return found;
  };
}

/** An http(s) URL. */
export const httpUrl: ValueType<string> = (raw) => {
  try {
    const url = new URL(raw);
    if (url.protocol === "http:" || url.protocol === "https:") return raw;
  } catch {}
  fail("must be an http:// or https:// URL");
};

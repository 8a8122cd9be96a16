import { type VehicleKind, vehicles } from "./vehicles";

/** A bad command line: the message names the flag and the rule. */
export class UsageError extends Error {}

/** Milliseconds in "500ms", "5s", "10m", "2h", "1h30m"; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (text === "" || parts.map((m) => m[0]).join("") !== text) return undefined;
  const total = parts.reduce((sum, m) => sum + Number(m[1]) * (units[m[2] ?? ""] ?? Number.NaN), 0);
  return Number.isInteger(total) ? total : undefined;
}

/** A number flag that passes `ok`, else a {@link UsageError} stating `rule`. */
export function number(flag: string, text: string, rule: string, ok: (n: number) => boolean): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || !ok(n)) throw new UsageError(`--${flag} ${text}: ${rule}`);
  return n;
}

/** An integer flag within [min, max]. */
export function integer(flag: string, text: string, min: number, max: number): number {
  return number(flag, text, `must be an integer from ${min} to ${max}`, (n) => {
    return Number.isInteger(n) && n >= min && n <= max;
  });
}

/** "100ms", "1s", "10m", "1h": the largest unit that divides `ms`. */
function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** A duration flag within [min, max] ms (`minName` names the flag the minimum comes from). */
export function duration(flag: string, text: string, min: number, max: number, minName?: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`--${flag} ${text}: must be a duration like 500ms, 5s, 10m, 2h`);
  if (ms < min || ms > max) {
    const low = minName ? `${minName} (${formatDuration(min)})` : formatDuration(min);
    throw new UsageError(`--${flag} ${text}: must be from ${low} to ${formatDuration(max)}`);
  }
  return ms;
}

/** `bike=35,moto=50,car=15`: relative weights of the vehicles. */
export function parseMix(text: string): Record<VehicleKind, number> {
  const mix = Object.fromEntries(Object.keys(vehicles).map((kind) => [kind, 0])) as Record<
    VehicleKind,
    number
  >;
  const rule = `must be vehicle=weight pairs of ${Object.keys(vehicles).join(", ")}, e.g. bike=35,moto=50,car=15`;
  for (const pair of text.split(",")) {
    const [name = "", weight = ""] = pair.split("=");
    if (!Object.hasOwn(vehicles, name)) throw new UsageError(`--mix ${text}: ${rule}`);
    mix[name as VehicleKind] = number("mix", weight, rule, (n) => n >= 0);
  }
  if (Object.values(mix).every((w) => w === 0))
    throw new UsageError(`--mix ${text}: some weight must be positive`);
  return mix;
}

/** A bad command line: the message names the flag and the rule. */
export class UsageError extends Error {}

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

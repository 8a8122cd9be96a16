/** Severity levels of the structured logs, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A structured logger: one JSON object per line, so Workers observability can index the fields. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** Creates a logger that writes JSON lines at or above `level`, each carrying `base` fields. */
export function createLogger(level: LogLevel = "info", base: Record<string, unknown> = {}): Logger {
  const write = (at: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (rank[at] < rank[level]) return;
    const line = JSON.stringify({ level: at, msg, time: new Date().toISOString(), ...base, ...fields });
    if (at === "error") console.error(line);
    else if (at === "warn") console.warn(line);
    else console.log(line);
  };
  return {
    debug: (msg, fields) => write("debug", msg, fields),
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    child: (fields) => createLogger(level, { ...base, ...fields }),
  };
}

/** Turns an unknown thrown value into loggable fields without losing the stack. */
export function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    return { error: rootMessage(error), error_name: error.name };
  }
  return { error: String(error) };
}

/**
 * The most specific message of an error chain. Query errors wrap the driver's error and repeat the
 * whole statement with its parameters; the cause says what went wrong without copying data.
 */
export function rootMessage(error: unknown): string {
  const root = rootError(error);
  return root instanceof Error ? root.message : String(root);
}

/** The innermost cause of an error chain (its stack names the failing call without query data). */
export function rootError(error: unknown): unknown {
  let current = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current;
}

/**
 * Structured logging shared by every component: one JSON object per line, so a
 * person can read it and `jq` can filter it.
 *
 * @module
 */

/** Severity, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Extra key/value pairs carried by a log line. */
export type LogFields = Record<string, unknown>;

/** The logger every component receives; never use `console` directly. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** True when debug lines are written, so callers can skip building them. */
  readonly debugEnabled: boolean;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Name of the component, written as `component` on every line. */
  component: string;
  /** Lowest level written. @default "info" */
  level?: LogLevel;
  /** Where a finished line goes. @default a synchronous write to stdout */
  write?: (line: string) => void;
  /** Clock, injectable for tests. @default Date.now */
  now?: () => number;
}

const encoder = new TextEncoder();

function writeStdout(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

/** Parses a level name as users type it, e.g. from `LOG_LEVEL`. */
export function parseLogLevel(text: string): LogLevel {
  const level = text.toLowerCase();
  if (level in ORDER) return level as LogLevel;
  throw new RangeError(
    `Cannot parse log level: expected debug, info, warn or error, got "${text}"`,
  );
}

/** Creates a JSON-lines logger. */
export function createLogger(options: LoggerOptions): Logger {
  const { component, level = "info", write = writeStdout, now = Date.now } = options;
  return build({ component }, ORDER[level], write, now);
}

function build(
  base: LogFields,
  min: number,
  write: (line: string) => void,
  now: () => number,
): Logger {
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    const time = new Date(now()).toISOString();
    write(JSON.stringify({ time, level, ...base, msg, ...fields }, replacer));
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    debugEnabled: min <= ORDER.debug,
    child: (fields) => build({ ...base, ...fields }, min, write, now),
  };
}

// Errors have no enumerable fields, so JSON.stringify would print "{}".
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  return value;
}

/**
 * The dispatcher's settings: defaults in one place, parsed from flags and
 * environment variables, every field validated at start-up.
 *
 * @module
 */

import type { LogLevel } from "@common/log.ts";
import { ConfigError, logLevelSetting, parseFlags } from "@common/settings.ts";

export { ConfigError };

/** Validated settings of one dispatcher process. */
export interface DispatcherConfig {
  /** Address to listen on. */
  host: string;
  /** TCP port; 0 lets the kernel pick one, announced in the "listening" log line. */
  port: number;
  /** Prometheus `file_sd` JSON file listing the replicas. */
  targetsFile: string;
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: number;
  /** Bytes of request bodies held at once before new uploads get 503. */
  maxBufferedBytes: number;
  /** Extra attempts on other replicas after the first one failed. */
  retries: number;
  /** How long one attempt at a replica may take, in milliseconds. */
  upstreamTimeoutMs: number;
  /** Stop when stdin reaches end of file. */
  exitWithParent: boolean;
  logLevel: LogLevel;
}

/** Defaults, as users would type them. */
export const DEFAULTS = {
  host: "127.0.0.1",
  port: "9000",
  targetsFile: "run/targets/model.json",
  maxBodyBytes: String(20 * 1024 * 1024),
  maxBufferedBytes: String(256 * 1024 * 1024),
  retries: "3",
  upstreamTimeout: "30",
  logLevel: "info",
} as const;

/** Usage text printed by `--help`. */
export const USAGE = `Usage: deno task dispatcher [flags]

  --host H               address to listen on (env HOST) [${DEFAULTS.host}]
  --port P               port, 0 = any free one (env PORT) [${DEFAULTS.port}]
  --targets FILE         file_sd JSON file of replicas (env TARGETS_FILE)
                         [${DEFAULTS.targetsFile}]
  --max-body-bytes N     largest accepted image, bytes [${DEFAULTS.maxBodyBytes}]
  --max-buffered-bytes N bytes of uploads held at once; beyond, 503 + Retry-After
                         [${DEFAULTS.maxBufferedBytes}]
  --retries N            extra attempts on other replicas [${DEFAULTS.retries}]
  --upstream-timeout S   seconds one attempt may take [${DEFAULTS.upstreamTimeout}]
  --exit-with-parent     stop when stdin closes (set by the demo)
  env LOG_LEVEL          debug, info, warn, error [${DEFAULTS.logLevel}]`;

/** Every flag, as node's parser takes them. */
const FLAGS = {
  host: { type: "string" },
  port: { type: "string" },
  targets: { type: "string" },
  "max-body-bytes": { type: "string" },
  "max-buffered-bytes": { type: "string" },
  retries: { type: "string" },
  "upstream-timeout": { type: "string" },
  "exit-with-parent": { type: "boolean", default: false },
} as const;

/**
 * Parses flags, then environment variables, then defaults into settings.
 *
 * @throws {ConfigError} listing every invalid setting
 */
export function parseConfig(
  args: string[],
  env: Record<string, string | undefined>,
): DispatcherConfig {
  const values = parseFlags("dispatcher", args, FLAGS);
  const problems: string[] = [];
  const number = (name: string, text: string, check: (n: number) => boolean, rule: string) => {
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value) || !check(value)) {
      problems.push(`${name} must be ${rule}, got "${text}"`);
    }
    return value;
  };

  const host = values.host ?? env.HOST ?? DEFAULTS.host;
  if (host.trim() === "") problems.push(`--host must not be empty`);
  const port = number(
    values.port !== undefined || env.PORT === undefined ? "--port" : "PORT",
    values.port ?? env.PORT ?? DEFAULTS.port,
    (n) => Number.isInteger(n) && n >= 0 && n <= 65535,
    "an integer from 0 to 65535",
  );
  const targetsFile = values.targets ?? env.TARGETS_FILE ?? DEFAULTS.targetsFile;
  if (targetsFile.trim() === "") problems.push("--targets must not be empty");
  const maxBodyBytes = number(
    "--max-body-bytes",
    values["max-body-bytes"] ?? DEFAULTS.maxBodyBytes,
    (n) => Number.isInteger(n) && n >= 1 && n <= 1024 ** 3,
    "an integer from 1 to 1073741824 (1 GiB)",
  );
  const maxBufferedBytes = number(
    "--max-buffered-bytes",
    values["max-buffered-bytes"] ?? DEFAULTS.maxBufferedBytes,
    (n) => Number.isInteger(n) && n >= 1 && n <= 64 * 1024 ** 3,
    "an integer from 1 to 68719476736 (64 GiB)",
  );
  const retries = number(
    "--retries",
    values.retries ?? DEFAULTS.retries,
    (n) => Number.isInteger(n) && n >= 0 && n <= 20,
    "an integer from 0 to 20",
  );
  const upstreamTimeout = number(
    "--upstream-timeout",
    values["upstream-timeout"] ?? DEFAULTS.upstreamTimeout,
    (n) => n >= 0.1 && n <= 600,
    "seconds from 0.1 to 600",
  );

  const logLevel: LogLevel = logLevelSetting(env.LOG_LEVEL, problems);

  if (problems.length > 0) throw new ConfigError("dispatcher", problems);
  return {
    host,
    port,
    targetsFile,
    maxBodyBytes,
    maxBufferedBytes,
    retries,
    upstreamTimeoutMs: Math.round(upstreamTimeout * 1000),
    exitWithParent: values["exit-with-parent"] ?? false,
    logLevel,
  };
}

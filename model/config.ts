/**
 * The model service's settings: defaults in one place, parsed from flags and
 * environment variables, every field validated at start-up.
 *
 * @module
 */

import type { LogLevel } from "@common/log.ts";
import { DECODER_CHOICES, type DecoderChoice } from "./choose_decoder.ts";
import { ConfigError, logLevelSetting, parseFlags } from "@common/settings.ts";

export { ConfigError };

/** Validated settings of one replica. */
export interface ModelConfig {
  host: string;
  /** TCP port; 0 lets the kernel pick one, announced in the "listening" log line. */
  port: number;
  /** The ONNX file to serve. */
  modelPath: string;
  /** ONNX Runtime intra-op threads; undefined means "size from the CPU budget". */
  threads?: number;
  /** Image decoder engine. */
  decoder: DecoderChoice;
  /** Most images per ONNX Runtime run. */
  maxBatch: number;
  maxBodyBytes: number;
  /** Largest width x height an image header may claim. */
  maxPixels: number;
  /** Pixels decoded at once, over all requests. */
  pixelBudget: number;
  /** How long an upload may take, in milliseconds. */
  bodyTimeoutMs: number;
  /** Requests decoded or scored at once. */
  maxInFlight: number;
  /** Requests waiting for a slot before new ones are refused with 503. */
  maxQueue: number;
  /** How long a shutdown waits for admitted requests, in milliseconds. */
  drainTimeoutMs: number;
  exitWithParent: boolean;
  logLevel: LogLevel;
}

/** The real weights, served when present. */
export const REAL_MODEL = "models/resnet18-v1-7.onnx";
/** The synthetic weights, served otherwise. */
export const SYNTHETIC_MODEL = "models/resnet18-synthetic.onnx";

/** Defaults, as users would type them. */
export const DEFAULTS = {
  host: "127.0.0.1",
  port: "8000",
  maxBodyBytes: String(20 * 1024 * 1024),
  maxPixels: String(40_000_000),
  bodyTimeout: "30",
  maxInFlight: "4",
  maxQueue: "16",
  drainTimeout: "30",
  decoder: "auto",
  maxBatch: "1",
  logLevel: "info",
} as const;

/** Usage text printed by `--help`. */
export const USAGE = `Usage: deno task model:serve [flags]

  --host H              address to listen on (env HOST) [${DEFAULTS.host}]
  --port P              port, 0 = any free one (env PORT) [${DEFAULTS.port}]
  --model FILE          ONNX model (env MODEL_PATH)
                        [${REAL_MODEL} if present, else ${SYNTHETIC_MODEL}]
  --threads N           ONNX Runtime threads (env ORT_THREADS)
                        [the CPUs this process may use: cgroup quota, else cores]
  --decoder NAME        image decoder: sharp (native, fast), imagescript (portable)
                        or auto: sharp when it loads (env DECODER) [${DEFAULTS.decoder}]
  --max-batch N         most images per ONNX Runtime run; images that arrive while
                        one runs share the next, none waits for company [${DEFAULTS.maxBatch}]
  --max-body-bytes N    largest accepted upload, bytes [${DEFAULTS.maxBodyBytes}]
  --max-pixels N        largest width x height accepted [${DEFAULTS.maxPixels}]
  --pixel-budget N      pixels decoded at once over all requests; bounds memory
                        [the --max-pixels value]
  --body-timeout S      seconds an upload may take [${DEFAULTS.bodyTimeout}]
  --max-in-flight N     requests worked on at once [${DEFAULTS.maxInFlight}]
  --max-queue N         requests waiting before 503 + Retry-After [${DEFAULTS.maxQueue}]
  --drain-timeout S     seconds a shutdown waits for admitted work [${DEFAULTS.drainTimeout}]
  --exit-with-parent    stop when stdin closes (set by the local scaler)
  env LOG_LEVEL         debug, info, warn, error [${DEFAULTS.logLevel}]`;

/**
 * Parses flags, then environment variables, then defaults into settings.
 * `exists` tells whether a file is there, to pick the default model.
 *
 * @throws {ConfigError} listing every invalid setting
 */
export function parseConfig(
  args: string[],
  env: Record<string, string | undefined>,
  exists: (path: string) => boolean,
): ModelConfig {
  const values = parseFlags("model service", args, {
    host: { type: "string" },
    port: { type: "string" },
    model: { type: "string" },
    threads: { type: "string" },
    decoder: { type: "string" },
    "max-batch": { type: "string" },
    "max-body-bytes": { type: "string" },
    "max-pixels": { type: "string" },
    "pixel-budget": { type: "string" },
    "body-timeout": { type: "string" },
    "max-in-flight": { type: "string" },
    "max-queue": { type: "string" },
    "drain-timeout": { type: "string" },
    "exit-with-parent": { type: "boolean", default: false },
  });

  const problems: string[] = [];
  const integer = (name: string, text: string, min: number, max: number) => {
    const value = Number(text);
    if (text.trim() === "" || !Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got "${text}"`);
    }
    return value;
  };

  const host = values.host ?? env.HOST ?? DEFAULTS.host;
  if (host.trim() === "") problems.push("--host must not be empty");
  const port = integer("--port", values.port ?? env.PORT ?? DEFAULTS.port, 0, 65535);
  const modelPath = values.model ?? env.MODEL_PATH ??
    (exists(REAL_MODEL) ? REAL_MODEL : SYNTHETIC_MODEL);
  const threadsText = values.threads ?? env.ORT_THREADS;
  const threads = threadsText === undefined || threadsText === ""
    ? undefined
    : integer("--threads (or ORT_THREADS)", threadsText, 1, 256);
  const decoder = (values.decoder ?? env.DECODER ?? DEFAULTS.decoder) as DecoderChoice;
  if (!DECODER_CHOICES.includes(decoder)) {
    problems.push(`--decoder must be one of ${DECODER_CHOICES.join(", ")}, got "${decoder}"`);
  }
  const maxBatch = integer("--max-batch", values["max-batch"] ?? DEFAULTS.maxBatch, 1, 64);
  const maxBodyBytes = integer(
    "--max-body-bytes",
    values["max-body-bytes"] ?? DEFAULTS.maxBodyBytes,
    1,
    1024 ** 3,
  );
  const maxPixels = integer("--max-pixels", values["max-pixels"] ?? DEFAULTS.maxPixels, 1, 1e9);
  const pixelBudget = integer(
    "--pixel-budget",
    values["pixel-budget"] ?? String(maxPixels),
    1,
    1e10,
  );
  if (pixelBudget < maxPixels) {
    problems.push(
      `--pixel-budget (${pixelBudget}) must be at least --max-pixels (${maxPixels}), ` +
        "or the largest accepted image could never be decoded",
    );
  }
  const bodyTimeoutText = values["body-timeout"] ?? DEFAULTS.bodyTimeout;
  const bodyTimeout = Number(bodyTimeoutText);
  if (bodyTimeoutText.trim() === "" || !(bodyTimeout > 0 && bodyTimeout <= 3600)) {
    problems.push(`--body-timeout must be seconds above 0, at most 3600, got "${bodyTimeoutText}"`);
  }
  const maxInFlight = integer(
    "--max-in-flight",
    values["max-in-flight"] ?? DEFAULTS.maxInFlight,
    1,
    1024,
  );
  const maxQueue = integer("--max-queue", values["max-queue"] ?? DEFAULTS.maxQueue, 0, 100_000);
  const drainText = values["drain-timeout"] ?? DEFAULTS.drainTimeout;
  const drain = Number(drainText);
  if (drainText.trim() === "" || !(drain >= 0 && drain <= 3600)) {
    problems.push(`--drain-timeout must be seconds from 0 to 3600, got "${drainText}"`);
  }
  const logLevel: LogLevel = logLevelSetting(env.LOG_LEVEL, problems);

  if (problems.length > 0) throw new ConfigError("model service", problems);
  return {
    host,
    port,
    modelPath,
    threads,
    decoder,
    maxBatch,
    maxBodyBytes,
    maxPixels,
    pixelBudget,
    bodyTimeoutMs: Math.round(bodyTimeout * 1000),
    maxInFlight,
    maxQueue,
    drainTimeoutMs: Math.round(drain * 1000),
    exitWithParent: values["exit-with-parent"] ?? false,
    logLevel,
  };
}

/**
 * The load tester's command line: flags and environment parsed into a typed
 * value, every field validated, all problems reported together.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { LogLevel } from "@common/log.ts";
import { ConfigError, logLevelSetting } from "@common/settings.ts";

export { ConfigError };
import { parseLoadShape, type ReadText } from "./config_profile.ts";
import { profileArrivalCount, type ProfileSpec } from "./profile.ts";
import { type ClosedLoop, MAX_ARRIVALS } from "./run_load.ts";

/** Validated settings of one load test run. */
export interface LoadConfig {
  url: string;
  /** The open-loop profile; null for a closed loop. */
  profile: ProfileSpec | null;
  /** Virtual users; null for an open loop. */
  closedLoop: ClosedLoop | null;
  /** Folder whose JPEG and PNG files are sent. */
  imagesDir: string;
  maxOutstanding: number;
  requestTimeoutMs: number;
  drainTimeoutMs: number;
  /** Prometheus base URL for the replica count; none when absent. */
  prometheusUrl?: string;
  /** Print the summary as JSON on stdout (progress then goes to stderr). */
  json: boolean;
  /** Exit 1 when any request failed, not only when none succeeded. */
  failOnError: boolean;
  /** Where to write run.json; none when absent. */
  outPath: string | undefined;
  /** Where to write the HTML report; none when absent. */
  reportPath: string | undefined;
  logLevel: LogLevel;
}

/** Defaults, as users would type them. */
export const DEFAULTS = {
  url: "http://127.0.0.1:9000/classify",
  rate: "10",
  duration: "30",
  /** Used when no shared ImageNet sample is found; see {@linkcode defaultImagesDir}. */
  images: "images",
  maxOutstanding: "1000",
  timeout: "30",
  drainTimeout: "30",
  logLevel: "info",
} as const;

/** Usage text printed by `--help`. */
export const USAGE = `Usage: deno task load [flags]

Open loop (arrivals fixed in advance; latency counts from each scheduled time):
  --profile NAME[:k=v,...]  constant, step, ramp, spike, diurnal or trace [constant];
                         settings may follow the name, e.g. "spike:rate=4,peak=20",
                         or come as the flags below; "step:2:10,10:20" lists the steps
  --rate N               constant: arrivals per second; spike: rate outside the spike
                         [constant ${DEFAULTS.rate}, spike 4]
  --duration S           length in seconds (not step or trace) [${DEFAULTS.duration}; ramp 60,
                         spike 60, diurnal 120]
  --steps LIST           step: rate:seconds,... e.g. "2:10,10:20,2:10" (implies --profile step)
  --from N               ramp: rate at the start [1]
  --to N                 ramp: rate at the end, reached linearly [20]
  --peak N               spike: rate during the spike [20]
  --spike-at S           spike: when the spike starts [20]
  --spike-for S          spike: how long it lasts [10]
  --min N                diurnal: lowest rate, at the start of each cycle [2]
  --max N                diurnal: highest rate, half a period in [20]
  --period S             diurnal: length of one cycle [60]
  --trace FILE           trace: CSV of "second,rate" rows; each rate holds until the
                         next row, the last for one second (implies --profile trace)

Closed loop (the server sets the pace; latency counts from each send):
  --users N              virtual users, each sending its next request after an answer
  --think-time S         pause of a user between answer and next request [0]
  (--duration S applies too)

Common:
  --url URL              where images are POSTed (env LOAD_URL) [${DEFAULTS.url}]
  --images DIR           folder of JPEG/PNG files, sent in name order [the shared
                         ImageNet sample ($SHARED_IMAGES/imagenet-sample or
                         ../shared/images/imagenet-sample) when found, else ${DEFAULTS.images}]
  --max-outstanding N    cap on unanswered requests; arrivals beyond it count as
                         client_overflow [${DEFAULTS.maxOutstanding}]
  --timeout S            seconds one request may take [${DEFAULTS.timeout}]
  --drain-timeout S      seconds to wait for answers after the profile ends
                         [${DEFAULTS.drainTimeout}]
  --prometheus URL       show live replicas from this Prometheus (env PROMETHEUS_URL)
  --out FILE             write run.json: settings, per-second timeline and summary
  --report FILE          write a self-contained HTML report with charts
  --json                 print the summary as JSON (progress lines go to stderr)
  --fail-on-error        exit 1 when any request failed (without it: exit 1 only
                         when no request at all got a 2xx answer)
  env LOG_LEVEL          debug, info, warn, error [${DEFAULTS.logLevel}]`;

const FLAGS = {
  profile: { type: "string" },
  rate: { type: "string" },
  duration: { type: "string" },
  steps: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  peak: { type: "string" },
  "spike-at": { type: "string" },
  "spike-for": { type: "string" },
  min: { type: "string" },
  max: { type: "string" },
  period: { type: "string" },
  trace: { type: "string" },
  users: { type: "string" },
  "think-time": { type: "string" },
  url: { type: "string" },
  images: { type: "string" },
  "max-outstanding": { type: "string" },
  timeout: { type: "string" },
  "drain-timeout": { type: "string" },
  prometheus: { type: "string" },
  out: { type: "string" },
  report: { type: "string" },
  json: { type: "boolean" },
  "fail-on-error": { type: "boolean" },
} as const;

type Flags = {
  [name in keyof typeof FLAGS]?: typeof FLAGS[name]["type"] extends "string" ? string : boolean;
};

/**
 * Reads the flags leniently so that a misspelt flag or a missing value is one
 * problem among the others rather than the only one reported.
 */
function parseFlags(args: string[], problems: string[]): Flags {
  const { tokens } = parseArgs({ args, options: FLAGS, strict: false, tokens: true });
  const flags: Record<string, string | boolean> = {};
  for (const token of tokens) {
    if (token.kind === "positional") {
      problems.push(`unexpected argument "${token.value}": every setting is a --flag`);
      continue;
    }
    if (token.kind !== "option") continue;
    const spec = (FLAGS as Record<string, { type: string }>)[token.name];
    if (!spec) {
      problems.push(`unknown flag ${token.rawName}: see --help for the list`);
    } else if (spec.type === "boolean" && token.value !== undefined) {
      problems.push(`${token.rawName} takes no value, got "${token.value}"`);
    } else if (
      spec.type === "string" &&
      (token.value === undefined || (!token.inlineValue && token.value.startsWith("--")))
    ) {
      problems.push(`${token.rawName} needs a value, e.g. ${token.rawName}=VALUE`);
    } else {
      flags[token.name] = token.value ?? true;
    }
  }
  return flags as Flags;
}

/**
 * The folder sent without `--images`: the shared ImageNet sample inside
 * `shared` (what `findSharedImages()` found), as the demo sends, or the six
 * generated pictures of `images/` when there is none.
 */
export function defaultImagesDir(shared: string | undefined): string {
  return shared === undefined ? DEFAULTS.images : `${shared}/imagenet-sample`;
}

/**
 * Parses flags, then environment variables, then defaults into settings.
 * `readText` reads a `--trace` file (default: from disk); `defaultImages` is
 * the folder used without `--images` (see {@linkcode defaultImagesDir}).
 *
 * @throws {ConfigError} listing every invalid setting
 */
export function parseConfig(
  args: string[],
  env: Record<string, string | undefined>,
  readText?: ReadText,
  defaultImages: string = DEFAULTS.images,
): LoadConfig {
  const problems: string[] = [];
  const values = parseFlags(args, problems);
  const number = (flag: string, text: string, check: (n: number) => boolean, rule: string) => {
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value) || !check(value)) {
      problems.push(`--${flag} must be ${rule}, got "${text}"`);
    }
    return value;
  };
  const httpUrl = (name: string, text: string) => {
    let parsed: URL | undefined;
    try {
      parsed = new URL(text);
    } catch {
      // Reported below with the rule.
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol)) {
      problems.push(`${name} must be an http(s) URL, got "${text}"`);
    }
  };

  const url = values.url ?? env.LOAD_URL ?? DEFAULTS.url;
  httpUrl("--url", url);
  const prometheusUrl = values.prometheus ?? env.PROMETHEUS_URL;
  if (prometheusUrl !== undefined) httpUrl("--prometheus", prometheusUrl);

  const shape = parseLoadShape(values, problems, readText);
  const arrivals = shape?.profile ? profileArrivalCount(shape.profile) : 1;
  if (arrivals === 0 && shape?.profile?.kind === "step") {
    problems.push(`--steps must schedule at least one arrival, got only pauses: "${values.steps}"`);
  } else if (arrivals === 0) {
    problems.push(
      `the ${shape?.profile?.kind} profile schedules no arrival at all: raise its rates`,
    );
  } else if (arrivals > MAX_ARRIVALS) {
    problems.push(
      `the profile schedules ${arrivals} arrivals, more than the ${MAX_ARRIVALS} one run can ` +
        "hold: lower --rate or --duration (or the steps)",
    );
  }

  const maxOutstanding = number(
    "max-outstanding",
    values["max-outstanding"] ?? DEFAULTS.maxOutstanding,
    (n) => Number.isInteger(n) && n >= 1 && n <= 100_000,
    "an integer from 1 to 100000",
  );
  const timeout = number(
    "timeout",
    values.timeout ?? DEFAULTS.timeout,
    (n) => n > 0 && n <= 3600,
    "seconds above 0, at most 3600",
  );
  const drainTimeout = number(
    "drain-timeout",
    values["drain-timeout"] ?? DEFAULTS.drainTimeout,
    (n) => n > 0 && n <= 3600,
    "seconds above 0, at most 3600",
  );

  const logLevel: LogLevel = logLevelSetting(env.LOG_LEVEL, problems);

  if (problems.length > 0) throw new ConfigError("load test", problems);
  return {
    url,
    profile: shape!.profile,
    closedLoop: shape!.closedLoop,
    imagesDir: values.images ?? defaultImages,
    maxOutstanding,
    requestTimeoutMs: Math.round(timeout * 1000),
    drainTimeoutMs: Math.round(drainTimeout * 1000),
    prometheusUrl,
    json: values.json === true,
    failOnError: values["fail-on-error"] === true,
    outPath: values.out,
    reportPath: values.report,
    logLevel,
  };
}

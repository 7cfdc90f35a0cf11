/**
 * The experiment's settings. Every flag, every policy and every autoscaler
 * flag list a run will use is checked before the first run starts, and all
 * problems are reported together: a typo in the fourth policy should not
 * surface after three runs of several minutes.
 *
 * @module
 */

import { findExecutable } from "@common/find_executable.ts";
import { ConfigError, parseFlags } from "@common/settings.ts";
import { parseConfig as parseAutoscalerConfig } from "../autoscaler/config.ts";
import { INSTALL_HINT } from "../demo/prometheus_server.ts";
import { PROFILE_NAMES, type ProfileSpec } from "../loadtest/profile.ts";
import { parsePolicies, type PolicySpec } from "./policy_spec.ts";
import { parseProfile, type PeakWindow, peakWindow } from "./profiles.ts";

export { ConfigError };

/** One policy's run: its spec and the full autoscaler flag list. */
export interface PlannedRun extends PolicySpec {
  autoscalerArgs: string[];
}

/** Validated settings of one experiment. */
export interface ExperimentConfig {
  runs: PlannedRun[];
  /** The load, as `--profile` gave it, e.g. `spike:peak=14`. */
  profileText: string;
  profile: ProfileSpec;
  /** Where the load is highest: reaction times are measured from its edges. */
  peak: PeakWindow;
  /** Seeds the order in which the photos are sent; the same for every run. */
  seed: number;
  max: number;
  /** How many times each policy runs; the runs are interleaved (see schedule.ts). */
  repeat: number;
  /** Seconds after the load during which the fleet is watched shrinking. */
  cooldownSeconds: number;
  imageDir: string;
  /** Model file; undefined to use the real weights if present, else synthetic ones. */
  modelPath?: string;
  prometheusBin: string;
  outDir: string;
}

/** Defaults, as users would type them. */
export const DEFAULTS = {
  policies: "rate,hpa:0.7,hpa:0.9,concurrency",
  profile: "spike",
  seed: "1",
  max: "4",
  repeat: "1",
  cooldown: "45",
  prometheusBin: "prometheus",
} as const;

/**
 * Autoscaler flags every run shares. Decisions every second over a 5 s
 * window, and scale-down delays of 15-20 s instead of the production ones
 * (up to 300 s for the HPA), so that a one-minute profile shows each policy
 * shrinking too. `--autoscaler-flags` comes after these and overrides them.
 */
export const SHARED_AUTOSCALER_ARGS = [
  "--interval",
  "1",
  "--window",
  "5s",
  "--min",
  "1",
  "--scale-down-window",
  "15",
  "--hpa-scale-down-window",
  "15",
  "--stable-window",
  "20",
  "--panic-window",
  "4",
  "--latency-stabilization",
  "15",
];

/** Usage text printed by `--help`. */
export const USAGE = `Usage: deno task experiment [flags]

Runs the local system once per policy (or --repeat times) under the same load,
one run after another, each from a clean start, and writes a comparison.

  --policies LIST         policies to compare, NAME or NAME:VALUE [${DEFAULTS.policies}]
                          rate:N         N requests/s per replica
                          hpa:N          N CPU cores per replica (0.7 = 70 % of one core)
                          concurrency:N  N requests in flight per replica
                          latency:N      keep p95 under N ms
  --profile TEXT          load, as \`deno task load\` takes it: NAME or NAME:key=value,...
                          with NAME one of ${PROFILE_NAMES.filter((n) => n !== "trace").join(", ")}
                          e.g. "spike:rate=2,peak=14,spike-for=20" [${DEFAULTS.profile}]
  --seed N                order in which the photos are sent [${DEFAULTS.seed}]
  --max N                 most replicas [${DEFAULTS.max}]
  --repeat N              runs per policy, 1 to 20, interleaved (every policy's run 1,
                          then every policy's run 2, ...); the table gives the median
                          and the range [${DEFAULTS.repeat}]
  --cooldown SECONDS      how long to watch the fleet after the load; every run is
                          watched this long, so all end at the same second [${DEFAULTS.cooldown}]
  --autoscaler-flags=F    extra autoscaler flags for every run, after the experiment's
                          own (SHARED_AUTOSCALER_ARGS in experiment/config.ts), e.g.
                          --autoscaler-flags="--hpa-scale-down-window 300" (with "=")
  --images DIR            photos to send [$SHARED_IMAGES/imagenet-sample, else images/]
  --model PATH            model file [models/resnet18-v1-7.onnx if present, else synthetic]
  --prometheus-bin P      Prometheus executable [${DEFAULTS.prometheusBin}]
  --out DIR               where results go [run/experiments/<UTC timestamp>/]`;

/** What {@linkcode parseConfig} needs besides the flags. */
export interface ConfigContext {
  /** Folder of photos used without `--images`. */
  defaultImages: string;
  /** Folder that holds one folder per experiment, e.g. `run/experiments`. */
  experimentsDir: string;
  /** Wall-clock time, for the default output folder. */
  now: Date;
}

/**
 * Parses the experiment's flags.
 *
 * @throws {ConfigError} listing every invalid setting
 */
export function parseConfig(args: string[], context: ConfigContext): ExperimentConfig {
  const values = parseFlags("experiment", args, {
    policies: { type: "string" },
    profile: { type: "string" },
    seed: { type: "string" },
    max: { type: "string" },
    repeat: { type: "string" },
    cooldown: { type: "string" },
    "autoscaler-flags": { type: "string" },
    images: { type: "string" },
    model: { type: "string" },
    "prometheus-bin": { type: "string" },
    out: { type: "string" },
  });
  const problems: string[] = [];
  const integer = (flag: string, text: string, low: number, high: number) => {
    const value = Number(text);
    if (text.trim() === "" || !Number.isInteger(value) || value < low || value > high) {
      problems.push(`--${flag} must be an integer from ${low} to ${high}, got "${text}"`);
    }
    return value;
  };

  const specs = parsePolicies(values.policies ?? DEFAULTS.policies, problems);
  const seed = integer("seed", values.seed ?? DEFAULTS.seed, 0, 2 ** 32 - 1);
  const max = integer("max", values.max ?? DEFAULTS.max, 1, 16);
  const repeat = integer("repeat", values.repeat ?? DEFAULTS.repeat, 1, 20);
  const cooldownSeconds = integer("cooldown", values.cooldown ?? DEFAULTS.cooldown, 0, 3600);

  const profileText = values.profile ?? DEFAULTS.profile;
  const profile = parseProfile(profileText, problems);

  // The autoscaler's own parser judges each run's flags, so a value it would
  // refuse at start-up is refused here, before any run.
  const extra = (values["autoscaler-flags"] ?? "").split(/\s+/).filter((part) => part !== "");
  // A bad shared flag fails every policy alike: it is reported once, naming all.
  const runs: PlannedRun[] = [];
  const failing = new Map<string, string[]>();
  for (const spec of specs) {
    // A bad --max is reported above; the default stands in so it is not reported twice.
    const maxText = problems.some((text) => text.startsWith("--max")) ? DEFAULTS.max : String(max);
    const autoscalerArgs = [...SHARED_AUTOSCALER_ARGS, "--max", maxText, ...spec.args];
    autoscalerArgs.push(...extra);
    try {
      parseAutoscalerConfig(autoscalerArgs, {});
      runs.push({ ...spec, autoscalerArgs });
    } catch (error) {
      const found = error instanceof ConfigError ? error.problems : [(error as Error).message];
      for (const problem of found) {
        failing.set(problem, [...failing.get(problem) ?? [], spec.label]);
      }
    }
  }
  for (const [problem, labels] of failing) {
    const names = labels.map((label) => `"${label}"`).join(", ");
    problems.push(`${labels.length > 1 ? "policies" : "policy"} ${names}: ${problem}`);
  }

  const imageDir = values.images ?? context.defaultImages;
  if (!isDirectory(imageDir)) problems.push(`--images: cannot find the folder ${imageDir}`);
  if (values.model !== undefined && !isFile(values.model)) {
    problems.push(`--model: cannot find the file ${values.model}`);
  }
  const prometheusBin = values["prometheus-bin"] ?? DEFAULTS.prometheusBin;
  if (findExecutable(prometheusBin) === undefined) {
    problems.push(`Prometheus: "${prometheusBin}" was not found; ${INSTALL_HINT}`);
  }
  const stamp = context.now.toISOString().replace(/\.\d+Z$/, "Z").replaceAll(":", "-");
  const outDir = values.out ?? `${context.experimentsDir}/${stamp}`;
  if (!isEmptyOrMissing(outDir)) {
    problems.push(`--out: ${outDir} already holds files; name a new folder so runs do not mix`);
  }

  if (problems.length > 0 || profile === undefined) {
    throw new ConfigError("experiment", problems);
  }
  return {
    runs,
    profileText,
    profile,
    peak: peakWindow(profile),
    seed,
    max,
    repeat,
    cooldownSeconds,
    imageDir,
    modelPath: values.model,
    prometheusBin,
    outDir,
  };
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function isEmptyOrMissing(path: string): boolean {
  try {
    if (!Deno.statSync(path).isDirectory) return false;
  } catch {
    return true;
  }
  for (const _ of Deno.readDirSync(path)) return false;
  return true;
}

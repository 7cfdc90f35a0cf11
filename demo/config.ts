/**
 * The demo's settings, validated before anything starts: a typo should cost
 * a second, not a minute of start-up followed by a stack trace.
 *
 * @module
 */

import { ConfigError, parseFlags } from "@common/settings.ts";
import { findExecutable } from "@common/find_executable.ts";
import { parseSteps, type RateStep } from "../loadtest/schedule.ts";
import { INSTALL_HINT } from "./prometheus_server.ts";

export { ConfigError };

/** Validated settings of one demo run. */
export interface DemoConfig {
  steps: RateStep[];
  targetRate: string;
  max: string;
  imageDir: string;
  synthetic: boolean;
  prometheusBin: string;
  cooldownSeconds: number;
}

/** Defaults, as users would type them. */
export const DEFAULTS = {
  steps: "2:10,6:10,12:15,18:15,8:10,2:10",
  targetRate: "5",
  max: "4",
  prometheusBin: "prometheus",
  cooldown: "90",
} as const;

/** Usage text printed by `--help`. */
export const USAGE = `Usage: deno task demo [flags]

  --steps LIST         load profile, rate:seconds pairs [${DEFAULTS.steps}]
  --target-rate N      requests/s per replica the autoscaler aims for [${DEFAULTS.targetRate}]
  --max N              most replicas [${DEFAULTS.max}]
  --images DIR         photos to send [$SHARED_IMAGES or ../shared/images: imagenet-sample/,
                       else images/]
  --synthetic          skip the download attempt, serve synthetic weights
  --prometheus-bin P   Prometheus executable [${DEFAULTS.prometheusBin}]
  --cooldown SECONDS   how long to wait for the fleet to shrink after the load
                       [${DEFAULTS.cooldown}]`;

/**
 * Parses the demo's flags; `defaultImages` is the folder used without `--images`.
 *
 * @throws {ConfigError} listing every invalid setting
 */
export function parseConfig(args: string[], defaultImages: string): DemoConfig {
  const values = parseFlags("demo", args, {
    steps: { type: "string" },
    "target-rate": { type: "string" },
    max: { type: "string" },
    images: { type: "string" },
    synthetic: { type: "boolean", default: false },
    "prometheus-bin": { type: "string" },
    cooldown: { type: "string" },
  });

  const problems: string[] = [];
  let steps: RateStep[] = [];
  try {
    steps = parseSteps(values.steps ?? DEFAULTS.steps);
  } catch (error) {
    problems.push(`--steps: ${(error as Error).message}`);
  }
  const targetRate = values["target-rate"] ?? DEFAULTS.targetRate;
  if (!(Number(targetRate) > 0)) {
    problems.push(`--target-rate must be requests/s above 0, got "${targetRate}"`);
  }
  const max = values.max ?? DEFAULTS.max;
  if (!Number.isInteger(Number(max)) || Number(max) < 1 || Number(max) > 64) {
    problems.push(`--max must be an integer from 1 to 64, got "${max}"`);
  }
  const cooldownText = values.cooldown ?? DEFAULTS.cooldown;
  const cooldownSeconds = Number(cooldownText);
  if (cooldownText.trim() === "" || !(cooldownSeconds >= 0 && cooldownSeconds <= 3600)) {
    problems.push(`--cooldown must be seconds from 0 to 3600, got "${cooldownText}"`);
  }
  const imageDir = values.images ?? defaultImages;
  try {
    if (!Deno.statSync(imageDir).isDirectory) problems.push(`--images: ${imageDir} is a file`);
  } catch {
    problems.push(`--images: cannot find the folder ${imageDir}`);
  }
  const prometheusBin = values["prometheus-bin"] ?? DEFAULTS.prometheusBin;
  if (findExecutable(prometheusBin) === undefined) {
    problems.push(`Prometheus: "${prometheusBin}" was not found; ${INSTALL_HINT}`);
  }
  if (problems.length > 0) throw new ConfigError("demo", problems);
  return {
    steps,
    targetRate,
    max,
    imageDir,
    synthetic: values.synthetic ?? false,
    prometheusBin,
    cooldownSeconds,
  };
}

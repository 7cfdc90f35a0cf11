/**
 * A policy as the experiment names it: `rate`, `hpa:0.7`, `concurrency:1`.
 * The part after the colon is the policy's one main knob, so the question
 * "our autoscaler or the HPA at 70 % or 90 % CPU?" is one flag:
 * `--policies rate,hpa:0.7,hpa:0.9`.
 *
 * @module
 */

import { POLICIES, type PolicyName } from "../autoscaler/config.ts";

/** One entry of `--policies`, resolved into autoscaler flags. */
export interface PolicySpec {
  /** As the user wrote it, e.g. `hpa:0.7`; unique within one experiment. */
  label: string;
  policy: PolicyName;
  /** The knob's value as written; undefined for the autoscaler's default. */
  parameter?: string;
  /** The autoscaler flags that select the policy and set its knob. */
  args: string[];
}

/** The flag each policy's parameter sets, and what it means to a reader. */
export const PARAMETER_FLAGS: Record<PolicyName, { flag: string; meaning: string }> = {
  rate: { flag: "--target-rate", meaning: "requests/s per replica" },
  hpa: { flag: "--hpa-target", meaning: "CPU cores per replica (0.7 = 70 % of one core)" },
  concurrency: { flag: "--target-concurrency", meaning: "requests in flight per replica" },
  latency: { flag: "--slo-ms", meaning: "p95 latency to stay under, ms" },
};

/**
 * Parses a comma-separated list such as `rate,hpa:0.7,hpa:0.9`. Problems go
 * into `problems`, one sentence each, so they join the other settings' ones.
 * Whether a parameter is in range is left to the autoscaler's own parser,
 * which the caller runs over `args`.
 */
export function parsePolicies(text: string, problems: string[]): PolicySpec[] {
  const specs: PolicySpec[] = [];
  const seen = new Set<string>();
  for (const raw of text.split(",")) {
    const label = raw.trim();
    const [name, parameter, extra] = label.split(":");
    if (!POLICIES.includes(name as PolicyName) || extra !== undefined) {
      problems.push(
        `--policies: expected NAME or NAME:VALUE with NAME one of ${POLICIES.join(", ")}, ` +
          `got "${label}"`,
      );
      continue;
    }
    if (parameter !== undefined && !(Number(parameter) > 0)) {
      problems.push(`--policies: the value of "${label}" must be a number above 0`);
      continue;
    }
    if (seen.has(label)) {
      problems.push(`--policies: "${label}" appears twice; each run needs its own label`);
      continue;
    }
    seen.add(label);
    const policy = name as PolicyName;
    const args = ["--policy", policy];
    if (parameter !== undefined) args.push(PARAMETER_FLAGS[policy].flag, parameter);
    specs.push({ label, policy, parameter, args });
  }
  return specs;
}

/** A folder name for the run of `spec`, e.g. `2-hpa-0.7`. */
export function runFolderName(spec: PolicySpec, index: number): string {
  return `${index + 1}-${spec.label.replace(/[^a-z0-9.]+/gi, "-")}`;
}

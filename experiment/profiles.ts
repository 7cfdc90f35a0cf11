/**
 * The experiment's load: a profile of the load tester's (`spike`,
 * `ramp:from=2,to=16`, `step:2:20,14:20,2:30`, ...) and where its peak sits.
 *
 * @module
 */

import { parseLoadShape } from "../loadtest/config_profile.ts";
import {
  profileArrivalCount,
  profileSeconds,
  type ProfileSpec,
  rateAt,
} from "../loadtest/profile.ts";
import { parseProfileFlag } from "../loadtest/profile_build.ts";
import type { RateStep } from "../loadtest/schedule.ts";

/** The stretch of a profile at its highest rate, in seconds from the start. */
export interface PeakWindow {
  /** When the highest rate begins. */
  start: number;
  /** When it ends: the load falls (or stops) here. */
  end: number;
  /** The highest rate, arrivals per second. */
  rate: number;
}

/**
 * Reads `--profile` text with the load tester's own parser, so that a text
 * means the same load to both tools and is refused with the same words.
 * Recorded traces are refused: they need a file, which the experiment does
 * not take. Pushes a sentence per problem onto `problems` and returns
 * undefined when there is any.
 */
export function parseProfile(text: string, problems: string[]): ProfileSpec | undefined {
  const found: string[] = [];
  let name: string | undefined;
  try {
    name = parseProfileFlag(text).name;
  } catch {
    // parseLoadShape reads the text again below and words the problem.
  }
  if (name === "trace") {
    found.push("Cannot use a trace in an experiment: choose another profile");
  } else {
    const shape = parseLoadShape({ profile: text }, found, noFiles);
    const spec = shape?.profile ?? undefined;
    if (spec !== undefined && profileArrivalCount(spec) === 0) {
      found.push(`the ${spec.kind} profile schedules no arrival at all: raise its rates`);
    }
    if (found.length === 0) return spec;
  }
  problems.push(...found.map((problem) => `--profile: ${problem}`));
  return undefined;
}

// Only a trace reads a file, and a trace is refused before this is reached.
function noFiles(path: string): string {
  throw new RangeError(`Cannot read ${path}: an experiment reads no load from a file`);
}

// Resolution at which profiles without steps are scanned for their peak.
const SCAN_SECONDS = 0.1;

/**
 * The first stretch at the profile's highest rate. A spike's peak is its spike
 * (`at` to `at + for`), a step profile's is its first highest step; a ramp's
 * is its top end and a diurnal one's its first crest, found by scanning.
 */
export function peakWindow(spec: ProfileSpec): PeakWindow {
  if (spec.kind === "spike") {
    return { start: spec.at, end: Math.min(spec.at + spec.for, spec.seconds), rate: spec.peak };
  }
  if (spec.kind === "step") return stepPeak(spec.steps);
  const total = profileSeconds(spec);
  let rate = 0;
  for (let t = 0; t < total; t += SCAN_SECONDS) rate = Math.max(rate, rateAt(spec, t));
  // Within 1 % of the top counts as the top, so a crest is a stretch, not an instant.
  const high = (t: number) => rateAt(spec, t) >= rate * 0.99;
  let start = 0;
  while (start < total && !high(start)) start += SCAN_SECONDS;
  let end = start;
  while (end < total && high(end)) end += SCAN_SECONDS;
  return { start: round(start), end: round(Math.min(end, total)), rate: round(rate) };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function stepPeak(steps: readonly RateStep[]): PeakWindow {
  const rate = Math.max(...steps.map((step) => step.rate));
  let offset = 0;
  let start = -1;
  for (const step of steps) {
    if (start < 0 && step.rate === rate) start = offset;
    else if (start >= 0 && step.rate !== rate) return { start, end: offset, rate };
    offset += step.seconds;
  }
  return { start, end: offset, rate };
}

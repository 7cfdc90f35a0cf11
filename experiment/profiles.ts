/**
 * The experiment's load: a profile of the load tester's (`spike`,
 * `ramp:from=2,to=16`, `step:2:20,14:20,2:30`, ...) and where its peak sits.
 *
 * @module
 */

import { profileSeconds, type ProfileSpec, rateAt } from "../loadtest/profile.ts";
import { buildProfile, parseProfileFlag, type ProfileSettings } from "../loadtest/profile_build.ts";
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
 * Reads `--profile` text the way `deno task load` does. Recorded traces are
 * refused: they need a file, which the experiment does not take.
 *
 * @throws {SyntaxError} or {RangeError} saying what is wrong with the text
 */
export function parseProfile(text: string): ProfileSpec {
  const { name, values } = parseProfileFlag(text);
  if (name === "trace") {
    throw new RangeError("Cannot use a trace in an experiment: choose another profile");
  }
  const settings: Record<string, number | string> = {};
  for (const [key, value] of Object.entries(values)) {
    const camel = key.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
    if (camel === "steps") settings.steps = value;
    else if (value.trim() !== "" && Number.isFinite(Number(value))) settings[camel] = Number(value);
    else throw new RangeError(`Cannot read --profile "${text}": ${key} must be a number`);
  }
  return buildProfile(name, settings as ProfileSettings);
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

/**
 * Builds a named profile from settings, filling in defaults, and reads the
 * compact `--profile` form `name:key=value,...` (e.g. `spike:peak=20,rate=4`).
 * Keys are the flag names without their dashes, so `--peak 20` and
 * `peak=20` mean the same.
 *
 * @module
 */

import {
  PROFILE_NAMES,
  profileArrivalCount,
  type ProfileName,
  type ProfileSpec,
  type TracePoint,
} from "./profile.ts";
import { parseSteps, type RateStep } from "./schedule.ts";
import { traceSeconds } from "./trace.ts";

/** Numeric settings of the profiles, in the units their flags take. */
export interface ProfileSettings {
  /** Arrivals per second of `constant`, and the base of `spike`. */
  rate?: number;
  /** Length in seconds (every profile but `step` and `trace`). */
  duration?: number;
  /** `ramp`: start and end rate. */
  from?: number;
  to?: number;
  /** `spike`: rate during the spike, its start (s) and length (s). */
  peak?: number;
  spikeAt?: number;
  spikeFor?: number;
  /** `diurnal`: lowest and highest rate, and the cycle length (s). */
  min?: number;
  max?: number;
  period?: number;
  /** `step`: the steps, or their text form `rate:seconds,...`. */
  steps?: RateStep[] | string;
  /** `trace`: the parsed rows, and where they came from. */
  trace?: TracePoint[];
  traceSource?: string;
}

/** Defaults of each profile, chosen so that a bare `--profile NAME` runs a minute or two. */
export const PROFILE_DEFAULTS = {
  constant: { rate: 10, duration: 30 },
  step: { steps: "2:10,10:20,2:10" },
  ramp: { from: 1, to: 20, duration: 60 },
  spike: { rate: 4, peak: 20, spikeAt: 20, spikeFor: 10, duration: 60 },
  diurnal: { min: 2, max: 20, period: 60, duration: 120 },
  trace: {},
} as const satisfies Record<ProfileName, ProfileSettings>;

/** Which settings each profile reads; any other given setting is a mistake. */
export const PROFILE_KEYS: Record<ProfileName, readonly (keyof ProfileSettings)[]> = {
  constant: ["rate", "duration"],
  step: ["steps"],
  ramp: ["from", "to", "duration"],
  spike: ["rate", "peak", "spikeAt", "spikeFor", "duration"],
  diurnal: ["min", "max", "period", "duration"],
  trace: ["trace", "traceSource"],
};

const MAX_RATE = 100_000;
const MAX_SECONDS = 86_400;

/** Whether `name` is one of {@linkcode PROFILE_NAMES}. */
export function isProfileName(name: string): name is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(name);
}

/**
 * The profile `name` with `settings` over its defaults, e.g.
 * `buildProfile("spike", { peak: 40 })`.
 *
 * @throws {RangeError} listing every out-of-range or foreign setting
 * @throws {SyntaxError} when `steps` text is malformed
 */
export function buildProfile(name: ProfileName, settings: ProfileSettings = {}): ProfileSpec {
  const foreign = Object.keys(settings).filter((key) =>
    settings[key as keyof ProfileSettings] !== undefined &&
    !PROFILE_KEYS[name].includes(key as keyof ProfileSettings)
  );
  const spec = assembleProfile(name, settings);
  const problems = foreign.map((key) => `the ${name} profile takes no ${flagOf(key)} setting`);
  problems.push(...checkProfile(spec));
  if (problems.length === 0 && profileArrivalCount(spec) === 0) {
    problems.push(`it schedules no arrival at all: raise its rates`);
  }
  if (problems.length > 0) {
    throw new RangeError(`Cannot build the ${name} profile: ${problems.join("; ")}`);
  }
  return spec;
}

/**
 * The profile `name` with `settings` over its defaults, not checked: for a
 * caller that reports {@linkcode checkProfile}'s problems itself.
 *
 * @throws {SyntaxError} when `steps` text is malformed
 * @throws {RangeError} for `trace` without its rows
 */
export function assembleProfile(name: ProfileName, settings: ProfileSettings): ProfileSpec {
  const s: ProfileSettings = { ...PROFILE_DEFAULTS[name], ...settings };
  const seconds = s.duration!;
  switch (name) {
    case "constant":
      return { kind: name, rate: s.rate!, seconds };
    case "step":
      return { kind: name, steps: typeof s.steps === "string" ? parseSteps(s.steps) : s.steps! };
    case "ramp":
      return { kind: name, from: s.from!, to: s.to!, seconds };
    case "spike":
      return {
        kind: name,
        rate: s.rate!,
        peak: s.peak!,
        at: s.spikeAt!,
        for: s.spikeFor!,
        seconds,
      };
    case "diurnal":
      return { kind: name, min: s.min!, max: s.max!, period: s.period!, seconds };
    case "trace": {
      if (!s.trace) throw new RangeError("Cannot build the trace profile: expected its rows");
      const spec: ProfileSpec = { kind: name, points: s.trace, seconds: traceSeconds(s.trace) };
      if (s.traceSource !== undefined) spec.source = s.traceSource;
      return spec;
    }
  }
}

/** The rule of each numeric setting, worded as its problems quote it. */
export const SETTING_RULES = {
  rate: `a number of requests per second from 0, at most ${MAX_RATE}`,
  positiveRate: `a number of requests per second above 0, at most ${MAX_RATE}`,
  seconds: `seconds above 0, at most ${MAX_SECONDS}`,
} as const;

/**
 * Every range problem of a profile, each naming its flag, its rule and the
 * value seen. Whether it schedules any arrival is not checked here.
 */
export function checkProfile(spec: ProfileSpec): string[] {
  const problems: string[] = [];
  const rate = (flag: string, value: number, positive = false) => {
    const low = positive ? value > 0 : value >= 0;
    if (!(low && value <= MAX_RATE)) {
      const rule = positive ? SETTING_RULES.positiveRate : SETTING_RULES.rate;
      problems.push(`--${flag} must be ${rule}, got "${value}"`);
    }
  };
  const seconds = (flag: string, value: number) => {
    if (!(value > 0 && value <= MAX_SECONDS)) {
      problems.push(`--${flag} must be ${SETTING_RULES.seconds}, got "${value}"`);
    }
  };

  switch (spec.kind) {
    case "constant":
      rate("rate", spec.rate, true);
      seconds("duration", spec.seconds);
      break;
    case "ramp":
      rate("from", spec.from);
      rate("to", spec.to);
      seconds("duration", spec.seconds);
      break;
    case "spike":
      rate("rate", spec.rate);
      rate("peak", spec.peak);
      seconds("duration", spec.seconds);
      if (!(spec.at >= 0 && (spec.at < spec.seconds || !(spec.seconds > 0)))) {
        problems.push(
          `--spike-at must be seconds from 0 to below --duration (${spec.seconds}), ` +
            `got "${spec.at}"`,
        );
      }
      seconds("spike-for", spec.for);
      break;
    case "diurnal":
      rate("min", spec.min);
      rate("max", spec.max);
      if (spec.max < spec.min) {
        problems.push(`--max must be at least --min (${spec.min}), got "${spec.max}"`);
      }
      seconds("period", spec.period);
      seconds("duration", spec.seconds);
      break;
    case "step":
      if (spec.steps.length === 0) problems.push("--steps must hold at least one step");
      spec.steps.forEach((step, i) => {
        if (!(step.rate >= 0 && step.rate <= MAX_RATE && step.seconds > 0)) {
          problems.push(`--steps step ${i + 1} must have a rate from 0 to ${MAX_RATE}`);
        }
      });
      break;
    case "trace":
      if (spec.seconds > MAX_SECONDS) {
        problems.push(`--trace must last at most ${MAX_SECONDS} s, got ${spec.seconds} s`);
      }
      break;
  }
  return problems;
}

/** The flag a setting comes from, e.g. `--spike-at` for `spikeAt`. */
export function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** What the compact `--profile` text holds before its values are checked. */
export interface ProfileFlag {
  name: ProfileName;
  /** Values by flag name without dashes, e.g. `{ "spike-at": "10" }`. */
  values: Record<string, string>;
}

/**
 * Reads `--profile` text: a bare name (`spike`), a name with settings
 * (`spike:rate=4,peak=20,spike-at=10`) or, for `step`, the step list itself
 * (`step:2:10,10:20`).
 *
 * @throws {SyntaxError} naming the unknown profile or the malformed setting
 */
export function parseProfileFlag(text: string): ProfileFlag {
  const colon = text.indexOf(":");
  const name = (colon < 0 ? text : text.slice(0, colon)).trim();
  const rest = colon < 0 ? "" : text.slice(colon + 1).trim();
  if (!isProfileName(name)) {
    throw new SyntaxError(
      `Cannot read --profile: expected one of ${PROFILE_NAMES.join(", ")}, got "${name}"`,
    );
  }
  if (rest === "") return { name, values: {} };
  if (name === "step") return { name, values: { steps: rest } };

  const values: Record<string, string> = {};
  for (const part of rest.split(",")) {
    const match = /^\s*([a-z-]+)\s*=\s*(\S+)\s*$/.exec(part);
    if (!match) {
      throw new SyntaxError(
        `Cannot read --profile "${text}": expected key=value settings such as ` +
          `"peak=20", got "${part}"`,
      );
    }
    if (match[1] in values) {
      throw new SyntaxError(`Cannot read --profile "${text}": ${match[1]} is given twice`);
    }
    values[match[1]] = match[2];
  }
  return { name, values };
}

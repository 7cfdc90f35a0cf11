/**
 * The part of the load tester's command line that says what load to send:
 * `--profile` with its settings, the older `--rate`/`--duration`/`--steps`,
 * or `--users` for a closed loop. Problems are collected, not thrown, so the
 * command line reports them together with every other invalid setting.
 *
 * @module
 */

import type { ProfileName, ProfileSpec } from "./profile.ts";
import {
  assembleProfile,
  checkProfile,
  flagOf,
  parseProfileFlag,
  PROFILE_DEFAULTS,
  PROFILE_KEYS,
  type ProfileSettings,
  SETTING_RULES,
} from "./profile_build.ts";
import { parseSteps } from "./schedule.ts";
import { parseTrace } from "./trace.ts";
import type { ClosedLoop } from "./run_load.ts";

/** The load of a run: an open-loop profile or a closed loop, never both. */
export type LoadShape =
  | { profile: ProfileSpec; closedLoop: null }
  | { profile: null; closedLoop: ClosedLoop };

/** Flag values this part reads, as typed; the names are the flags without dashes. */
export type ShapeFlags = Partial<Record<(typeof SHAPE_FLAGS)[number], string>>;

/** Flags that shape the load, besides `--profile`, `--users` and `--think-time`. */
export const SHAPE_FLAGS = [
  "rate",
  "duration",
  "steps",
  "from",
  "to",
  "peak",
  "spike-at",
  "spike-for",
  "min",
  "max",
  "period",
  "trace",
] as const;

/** Reads a trace file; injectable so tests need no files. */
export type ReadText = (path: string) => string;

const NUMBER_RULES: Record<string, string> = {
  rate: SETTING_RULES.rate,
  duration: SETTING_RULES.seconds,
  from: SETTING_RULES.rate,
  to: SETTING_RULES.rate,
  peak: SETTING_RULES.rate,
  "spike-at": "seconds from 0 to below --duration",
  "spike-for": SETTING_RULES.seconds,
  min: SETTING_RULES.rate,
  max: SETTING_RULES.rate,
  period: SETTING_RULES.seconds,
};

/**
 * Works out the load of a run from its flags; pushes a sentence per problem
 * onto `problems` and returns undefined when there is any.
 */
export function parseLoadShape(
  flags: ShapeFlags & { profile?: string; users?: string; "think-time"?: string },
  problems: string[],
  readText: ReadText = (path) => Deno.readTextFileSync(path),
): LoadShape | undefined {
  const before = problems.length;
  if (flags.users !== undefined) return closedLoop(flags, problems);
  if (flags["think-time"] !== undefined) {
    problems.push("--think-time applies to a closed loop only: give --users N with it");
  }

  // Which profile, and its settings from the compact form.
  // A flag that only one profile takes names that profile, unless --profile does.
  let name: ProfileName = flags.steps !== undefined
    ? "step"
    : flags.trace !== undefined
    ? "trace"
    : "constant";
  const texts: Record<string, string> = {};
  if (flags.profile !== undefined) {
    try {
      const parsed = parseProfileFlag(flags.profile);
      name = parsed.name;
      Object.assign(texts, parsed.values);
    } catch (error) {
      problems.push((error as Error).message);
      return undefined;
    }
  }
  for (const flag of SHAPE_FLAGS) {
    const value = flags[flag];
    if (value === undefined) continue;
    if (flag in texts) {
      problems.push(`--${flag} is given twice, as a flag and inside --profile: keep one`);
    }
    texts[flag] = value;
  }
  if (name === "step" && (texts.rate !== undefined || texts.duration !== undefined)) {
    problems.push("--steps replaces --rate and --duration: give either, not both");
  }

  // Each setting: known to this profile, and a number where one is due.
  const settings: ProfileSettings = {};
  const allowed = PROFILE_KEYS[name].map(flagOf);
  for (const [flag, text] of Object.entries(texts)) {
    if (!allowed.includes(`--${flag}`)) {
      if (name === "step" && (flag === "rate" || flag === "duration")) continue;
      const takes = allowed.filter((f) => f !== "--trace-source").join(", ");
      problems.push(`--${flag} does not apply to the ${name} profile, which takes ${takes}`);
      continue;
    }
    readSetting(name, flag, text, settings, problems, readText);
  }
  if (name === "trace" && settings.trace === undefined) {
    if (texts.trace === undefined) {
      problems.push("--profile trace needs --trace FILE, a CSV of second,rate rows");
    }
    return undefined;
  }

  // Range problems of settings that parsed are reported too; a setting that
  // did not parse was replaced by its default and already has its problem.
  const reported = problems.slice(before).map((problem) => problem.split(" ")[0]);
  const range: string[] = [];
  const spec = specOrProblem(name, settings, range);
  problems.push(...range.filter((problem) => !reported.includes(problem.split(" ")[0])));
  if (problems.length > before) return undefined;
  return spec && { profile: spec, closedLoop: null };
}

function readSetting(
  name: ProfileName,
  flag: string,
  text: string,
  settings: ProfileSettings,
  problems: string[],
  readText: ReadText,
): void {
  const key = flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
  if (flag === "steps") {
    try {
      settings.steps = parseSteps(text);
    } catch (error) {
      problems.push(`--steps: ${(error as Error).message}`);
    }
  } else if (flag === "trace") {
    try {
      settings.trace = parseTrace(readText(text));
      settings.traceSource = text;
    } catch (error) {
      const why = error instanceof Deno.errors.NotFound ? "no such file" : (error as Error).message;
      problems.push(`--trace ${text}: ${why}`);
    }
  } else {
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value)) {
      const rule = name === "constant" && flag === "rate"
        ? SETTING_RULES.positiveRate
        : NUMBER_RULES[flag];
      problems.push(`--${flag} must be ${rule}, got "${text}"`);
    } else {
      (settings as Record<string, number>)[key] = value;
    }
  }
}

function specOrProblem(
  name: ProfileName,
  settings: ProfileSettings,
  problems: string[],
): ProfileSpec | undefined {
  try {
    const spec = assembleProfile(name, settings);
    const range = checkProfile(spec);
    problems.push(...range);
    return range.length === 0 ? spec : undefined;
  } catch (error) {
    problems.push((error as Error).message);
    return undefined;
  }
}

function closedLoop(
  flags: ShapeFlags & { profile?: string; users?: string; "think-time"?: string },
  problems: string[],
): LoadShape | undefined {
  const before = problems.length;
  const foreign = [
    "profile",
    ...SHAPE_FLAGS.filter((flag) => flag !== "duration"),
  ].filter((flag) => (flags as Record<string, string | undefined>)[flag] !== undefined);
  for (const flag of foreign) {
    problems.push(`--${flag} shapes an open-loop profile: it does not go with --users`);
  }
  const users = Number(flags.users);
  if (!(Number.isInteger(users) && users >= 1 && users <= 100_000)) {
    problems.push(`--users must be an integer from 1 to 100000, got "${flags.users}"`);
  }
  const durationText = flags.duration ?? String(PROFILE_DEFAULTS.constant.duration);
  const seconds = Number(durationText);
  if (durationText.trim() === "" || !(seconds > 0 && seconds <= 86_400)) {
    problems.push(`--duration must be ${SETTING_RULES.seconds}, got "${durationText}"`);
  }
  const thinkText = flags["think-time"] ?? "0";
  const think = Number(thinkText);
  if (thinkText.trim() === "" || !(think >= 0 && think <= 3600)) {
    problems.push(`--think-time must be seconds from 0, at most 3600, got "${thinkText}"`);
  }
  if (problems.length > before) return undefined;
  return { profile: null, closedLoop: { users, seconds, thinkTimeMs: Math.round(think * 1000) } };
}

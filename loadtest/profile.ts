/**
 * Named open-loop rate profiles and the arrival times they produce.
 *
 * Every profile except `step` is a rate function r(t) in arrivals per second.
 * Its integral Λ(t) counts the arrivals owed by time t, and arrival k (from 0)
 * is sent at the first instant where Λ passes k. Over any stretch of time the
 * number of arrivals is therefore the integral of the rate, rounded: it never
 * drifts from it by a whole arrival. Worked case: a ramp from 0 to 4/s over
 * 2 s has Λ(t) = t², so its arrivals come at 0, 1, 1.41 and 1.73 s and the
 * two seconds hold 1 and 3 of them (Λ(1) = 1, Λ(2) = 4).
 *
 * `step` keeps the older rule of {@linkcode arrivalTimes} in schedule.ts:
 * each step restarts its own 1/rate spacing at its start, so `--steps` runs
 * schedule exactly what they always did.
 *
 * @module
 */

import { arrivalCount, arrivalTimes, type RateStep, totalSeconds } from "./schedule.ts";

/** One row of a recorded trace: from `second` on, `rate` arrivals per second. */
export interface TracePoint {
  second: number;
  rate: number;
}

/** A profile with its parameters, as it is stored in run.json. */
export type ProfileSpec =
  | { kind: "constant"; rate: number; seconds: number }
  | { kind: "step"; steps: RateStep[] }
  | { kind: "ramp"; from: number; to: number; seconds: number }
  | {
    kind: "spike";
    /** Rate before and after the spike. */
    rate: number;
    /** Rate during the spike. */
    peak: number;
    /** When the spike starts, seconds from the beginning. */
    at: number;
    /** How long the spike lasts, in seconds. */
    for: number;
    seconds: number;
  }
  | {
    kind: "diurnal";
    min: number;
    max: number;
    /** Length of one full cycle (min, max, min again), in seconds. */
    period: number;
    seconds: number;
  }
  | {
    kind: "trace";
    points: TracePoint[];
    /** Where the trace came from, for the record; not read again. */
    source?: string;
    seconds: number;
  };

/** The names `--profile` accepts. */
export type ProfileName = ProfileSpec["kind"];

/** Every profile name, in the order USAGE lists them. */
export const PROFILE_NAMES: readonly ProfileName[] = [
  "constant",
  "step",
  "ramp",
  "spike",
  "diurnal",
  "trace",
];

/** A linear piece of a rate function: from `fromRate` at `start` to `toRate` at `end`. */
interface Piece {
  start: number;
  end: number;
  fromRate: number;
  toRate: number;
}

/** Length of a profile, in seconds. */
export function profileSeconds(spec: ProfileSpec): number {
  return spec.kind === "step" ? totalSeconds(spec.steps) : spec.seconds;
}

/** The rate a profile asks for at `t` seconds from the start, per second. */
export function rateAt(spec: ProfileSpec, t: number): number {
  if (spec.kind === "diurnal") return diurnalRate(spec, t);
  if (spec.kind === "step") {
    let start = 0;
    for (const step of spec.steps) {
      if (t < start + step.seconds) return step.rate;
      start += step.seconds;
    }
    return 0;
  }
  const piece = pieces(spec).find((p) => t >= p.start && t < p.end);
  if (!piece) return 0;
  const share = piece.end === piece.start ? 0 : (t - piece.start) / (piece.end - piece.start);
  return piece.fromRate + (piece.toRate - piece.fromRate) * share;
}

/**
 * Arrivals owed by `t` seconds: the integral of the rate from 0 to `t`
 * (for `step`, the count its per-step spacing schedules before `t`).
 */
export function expectedArrivals(spec: ProfileSpec, t: number): number {
  if (spec.kind === "step") {
    return arrivalTimes(spec.steps).filter((ms) => ms < t * 1000).length;
  }
  if (spec.kind === "diurnal") return diurnalIntegral(spec, Math.min(t, spec.seconds));
  let sum = 0;
  for (const p of pieces(spec)) {
    if (t <= p.start) break;
    const u = Math.min(t, p.end) - p.start;
    const slope = (p.toRate - p.fromRate) / (p.end - p.start);
    sum += p.fromRate * u + (slope * u * u) / 2;
  }
  return sum;
}

// Keeps Λ(T) = 10.000000000000002 from scheduling an eleventh arrival.
const EPSILON = 1e-9;

/** How many arrivals {@linkcode profileArrivalTimes} returns, without building them. */
export function profileArrivalCount(spec: ProfileSpec): number {
  if (spec.kind === "step") return arrivalCount(spec.steps);
  const total = expectedArrivals(spec, spec.seconds);
  if (!Number.isFinite(total)) return Infinity;
  return Math.max(0, Math.ceil(total - EPSILON));
}

/** Arrival times of a profile, in milliseconds from the start, ascending. */
export function profileArrivalTimes(spec: ProfileSpec): number[] {
  if (spec.kind === "step") return arrivalTimes(spec.steps);
  const count = profileArrivalCount(spec);
  const times: number[] = [];
  if (spec.kind === "diurnal") {
    // No closed inverse for a sine's integral: bisect, starting each search
    // at the previous arrival since the integral only grows.
    let low = 0;
    for (let k = 0; k < count; k++) {
      let lo = low;
      let hi = spec.seconds;
      for (let i = 0; i < 60 && hi - lo > 1e-9; i++) {
        const mid = (lo + hi) / 2;
        if (diurnalIntegral(spec, mid) > k) hi = mid;
        else lo = mid;
      }
      low = hi;
      times.push(hi * 1000);
    }
    return times;
  }

  let owedBefore = 0;
  let k = 0;
  for (const p of pieces(spec)) {
    const length = p.end - p.start;
    const slope = (p.toRate - p.fromRate) / length;
    const owedAfter = owedBefore + p.fromRate * length + (slope * length * length) / 2;
    while (k < count && k < owedAfter - EPSILON) {
      // Solve fromRate*u + slope*u²/2 = k - owedBefore for u >= 0; this form of
      // the quadratic root stays exact when the slope is 0 or tiny.
      const need = Math.max(0, k - owedBefore);
      const root = Math.sqrt(Math.max(0, p.fromRate * p.fromRate + 2 * slope * need));
      const u = need === 0 ? 0 : (2 * need) / (p.fromRate + root);
      times.push((p.start + Math.min(u, length)) * 1000);
      k++;
    }
    owedBefore = owedAfter;
  }
  return times;
}

/** The rate function of every profile but `step` and `diurnal`, as linear pieces. */
function pieces(spec: ProfileSpec): Piece[] {
  const flat = (start: number, end: number, rate: number): Piece => ({
    start,
    end,
    fromRate: rate,
    toRate: rate,
  });
  switch (spec.kind) {
    case "constant":
      return [flat(0, spec.seconds, spec.rate)];
    case "ramp":
      return [{ start: 0, end: spec.seconds, fromRate: spec.from, toRate: spec.to }];
    case "spike": {
      const peakEnd = Math.min(spec.at + spec.for, spec.seconds);
      return [
        flat(0, spec.at, spec.rate),
        flat(spec.at, peakEnd, spec.peak),
        flat(peakEnd, spec.seconds, spec.rate),
      ].filter((p) => p.end > p.start);
    }
    case "trace":
      return spec.points.map((point, i) =>
        flat(point.second, spec.points[i + 1]?.second ?? spec.seconds, point.rate)
      ).filter((p) => p.end > p.start);
    default:
      throw new TypeError(`Cannot split a ${spec.kind} profile into linear pieces`);
  }
}

// The cycle starts at its minimum: r(t) = min + (max - min) * (1 - cos(2πt/P)) / 2.
function diurnalRate(spec: Extract<ProfileSpec, { kind: "diurnal" }>, t: number): number {
  if (t < 0 || t >= spec.seconds) return 0;
  const swing = (spec.max - spec.min) / 2;
  return spec.min + swing * (1 - Math.cos((2 * Math.PI * t) / spec.period));
}

function diurnalIntegral(spec: Extract<ProfileSpec, { kind: "diurnal" }>, t: number): number {
  if (t <= 0) return 0;
  const swing = (spec.max - spec.min) / 2;
  const w = (2 * Math.PI) / spec.period;
  return (spec.min + swing) * t - (swing / w) * Math.sin(w * t);
}

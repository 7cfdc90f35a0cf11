/**
 * Traffic traces for the simulator: request rate (per second) as a function
 * of time. Four are built in; any other comes from a CSV of `time,rate` rows
 * (seconds, requests per second), held constant between rows.
 *
 * @module
 */

/** A traffic trace over `seconds`. */
export interface Trace {
  name: string;
  seconds: number;
  /** Requests per second at `t` seconds. */
  rate(t: number): number;
}

/** Longest trace simulated: a week of traffic, minutes of computing. */
export const MAX_TRACE_SECONDS = 7 * 24 * 3600;

/** Names of the built-in traces. */
export const BUILT_IN = ["step", "spike", "ramp", "diurnal"] as const;

/**
 * A built-in trace around `base` requests per second:
 * - `step`: base for 5 min, 4x base for 20 min, base for 35 min;
 * - `spike`: base, with a 10x burst of 2 min every 15 min;
 * - `ramp`: from 0 up to 6x base over 30 min, then back down over 30 min;
 * - `diurnal`: a day squeezed into an hour, base/4 at night to 5x base at noon.
 */
export function builtInTrace(name: typeof BUILT_IN[number], base = 4): Trace {
  const hour = 3600;
  switch (name) {
    case "step":
      return { name, seconds: hour, rate: (t) => (t >= 300 && t < 1500 ? 4 * base : base) };
    case "spike":
      return {
        name,
        seconds: hour,
        rate: (t) => (t % 900 >= 450 && t % 900 < 570 ? 10 * base : base),
      };
    case "ramp":
      return {
        name,
        seconds: hour,
        rate: (t) => 6 * base * (t < 1800 ? t / 1800 : (hour - t) / 1800),
      };
    case "diurnal":
      return {
        name,
        seconds: hour,
        rate: (t) =>
          base / 4 + (5 * base - base / 4) * (1 - Math.cos((2 * Math.PI * t) / hour)) / 2,
      };
  }
}

/**
 * A trace from CSV text: rows of `time,rate`, time in seconds ascending, an
 * optional header row. The trace lasts until the last row's time.
 *
 * @throws {SyntaxError} naming the first bad row
 */
export function csvTrace(name: string, text: string): Trace {
  const points: Array<[number, number]> = [];
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    // A first row whose cells are not numbers is a header ("time,rate");
    // "0,1e1" is a row.
    const isHeader = index === 0 && line.split(",").some((cell) => Number.isNaN(Number(cell)));
    if (line.trim() === "" || isHeader) continue;
    const [time, rate] = line.split(",").map((cell) => Number(cell.trim()));
    const previous = points.at(-1)?.[0] ?? -Infinity;
    if (!Number.isFinite(time) || !Number.isFinite(rate) || rate < 0 || time <= previous) {
      throw new SyntaxError(
        `Cannot read trace row ${index + 1} of ${name}: expected "seconds,requests per second" ` +
          `with seconds increasing and a rate >= 0, got "${line}"`,
      );
    }
    points.push([time, rate]);
  }
  if (points.length < 2) {
    throw new SyntaxError(`Cannot read trace ${name}: expected at least two rows of time,rate`);
  }
  const seconds = points[points.length - 1][0];
  if (seconds > MAX_TRACE_SECONDS) {
    throw new SyntaxError(
      `Cannot simulate trace ${name}: it lasts ${seconds} s, more than ${MAX_TRACE_SECONDS} s ` +
        "(a week); times are in seconds",
    );
  }
  return {
    name,
    seconds,
    rate(t) {
      let value = points[0][1];
      for (const [time, rate] of points) {
        if (time > t) break;
        value = rate;
      }
      return value;
    },
  };
}

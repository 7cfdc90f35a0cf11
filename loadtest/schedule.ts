/**
 * Rate profiles and the arrival times they produce. A profile is a list of
 * steps, each a rate held for some seconds; arrivals inside a step are evenly
 * spaced, 1/rate seconds apart, starting at the step's beginning. The times are
 * fixed before the run starts, which is what makes the load open-loop: no
 * answer, however slow, moves the next arrival.
 *
 * @module
 */

/** One step of a rate profile. */
export interface RateStep {
  /** Arrivals per second; 0 makes the step a pause. */
  rate: number;
  /** How long the step lasts, in seconds. */
  seconds: number;
}

/**
 * The profile of a constant rate.
 *
 * @throws {RangeError} when `rate` is not > 0 or `seconds` not > 0
 */
export function constantSteps(rate: number, seconds: number): RateStep[] {
  if (!(rate > 0) || !Number.isFinite(rate)) {
    throw new RangeError(`Cannot build a constant profile: expected rate > 0, got ${rate}`);
  }
  if (!(seconds > 0) || !Number.isFinite(seconds)) {
    throw new RangeError(`Cannot build a constant profile: expected seconds > 0, got ${seconds}`);
  }
  return [{ rate, seconds }];
}

/**
 * Parses steps written as `rate:seconds` pairs separated by commas, e.g.
 * `"2:10,10:20,2:10"`: 2/s for 10 s, then 10/s for 20 s, then 2/s for 10 s.
 *
 * @throws {SyntaxError} naming the first malformed step
 */
export function parseSteps(text: string): RateStep[] {
  const parts = text.split(",").map((part) => part.trim());
  return parts.map((part, index) => {
    const match = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(part);
    const rate = Number(match?.[1]);
    const seconds = Number(match?.[2]);
    if (!match || !(seconds > 0)) {
      throw new SyntaxError(
        `Cannot parse step ${index + 1} of "${text}": expected rate:seconds with rate >= 0 ` +
          `and seconds > 0, e.g. "2:10,10:20", got "${part}"`,
      );
    }
    return { rate, seconds };
  });
}

/** Length of a profile, in seconds. */
export function totalSeconds(steps: readonly RateStep[]): number {
  return steps.reduce((sum, step) => sum + step.seconds, 0);
}

// The epsilon keeps 10:1 at 10 arrivals despite 9 * 100.00000000001.
const EPSILON_MS = 1e-6;

/**
 * Arrival times of a profile, in milliseconds from the start, ascending.
 * A step of rate r and length d holds the arrivals at k/r seconds after its
 * start for every k with k/r < d: `2:1.5` gives 0, 500 and 1000 ms.
 */
export function arrivalTimes(steps: readonly RateStep[]): number[] {
  const times: number[] = [];
  let offsetMs = 0;
  for (const { rate, seconds } of steps) {
    const lengthMs = seconds * 1000;
    if (rate > 0) {
      const gapMs = 1000 / rate;
      for (let k = 0; k * gapMs < lengthMs - EPSILON_MS; k++) times.push(offsetMs + k * gapMs);
    }
    offsetMs += lengthMs;
  }
  return times;
}

/**
 * How many arrivals {@linkcode arrivalTimes} would return, found without
 * building the list, so that a profile too large for memory can be refused.
 * Infinity when a step is endless.
 */
export function arrivalCount(steps: readonly RateStep[]): number {
  let count = 0;
  for (const { rate, seconds } of steps) {
    if (!(rate > 0)) continue;
    if (!Number.isFinite(rate) || !Number.isFinite(seconds)) return Infinity;
    const lengthMs = seconds * 1000;
    const gapMs = 1000 / rate;
    // The quotient is the answer up to rounding; the two loops settle the
    // edge with the very comparison arrivalTimes makes.
    let k = Math.max(0, Math.ceil((lengthMs - EPSILON_MS) / gapMs));
    while (k > 0 && (k - 1) * gapMs >= lengthMs - EPSILON_MS) k--;
    while (k * gapMs < lengthMs - EPSILON_MS) k++;
    count += k;
  }
  return count;
}

/**
 * Recorded traffic as a rate profile: a CSV of `second,rate` rows, e.g. the
 * requests per second of a production log. Each row sets the rate from its
 * second until the next row's second; the last row lasts one second, so a
 * trace of one row per second replays exactly its rows.
 *
 * @module
 */

import type { TracePoint } from "./profile.ts";
import { showText } from "./show_text.ts";

/** Highest rate a trace row may ask for, per second. */
export const MAX_TRACE_RATE = 100_000;

/**
 * Parses trace text. Blank lines and lines starting with `#` are skipped, and
 * so is a first row of `second,rate` as a header. Seconds must start at 0 and
 * increase strictly; rates must be >= 0.
 *
 * @throws {SyntaxError} listing every bad row by its line number (at most 10),
 * each quoted with {@linkcode showText} so a binary file shows no raw bytes
 */
export function parseTrace(text: string): TracePoint[] {
  const points: TracePoint[] = [];
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  let sawRow = false;

  lines.forEach((raw, index) => {
    const line = raw.trim();
    const where = `line ${index + 1}`;
    if (line === "" || line.startsWith("#")) return;
    if (!sawRow && /^second\s*,\s*rate$/i.test(line)) {
      sawRow = true;
      return;
    }
    sawRow = true;

    const cells = line.split(",").map((cell) => cell.trim());
    const second = Number(cells[0]);
    const rate = Number(cells[1]);
    if (cells.length !== 2 || cells[0] === "" || cells[1] === "") {
      problems.push(`${where}: expected "second,rate", got ${showText(line)}`);
    } else if (!Number.isFinite(second) || second < 0) {
      problems.push(`${where}: expected a second >= 0, got ${showText(cells[0])}`);
    } else if (!Number.isFinite(rate) || rate < 0 || rate > MAX_TRACE_RATE) {
      problems.push(
        `${where}: expected a rate from 0 to ${MAX_TRACE_RATE}, got ${showText(cells[1])}`,
      );
    } else {
      const previous = points.at(-1);
      if (previous === undefined && second !== 0) {
        problems.push(`${where}: expected the first row at second 0, got ${second}`);
      } else if (previous !== undefined && second <= previous.second) {
        problems.push(
          `${where}: expected seconds to increase, got ${second} after ${previous.second}`,
        );
      }
      points.push({ second, rate });
    }
  });

  if (points.length === 0 && problems.length === 0) {
    problems.push('no rows: expected lines of "second,rate", e.g. "0,5"');
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 10);
    if (problems.length > 10) shown.push(`and ${problems.length - 10} more`);
    throw new SyntaxError(`Cannot read the trace: ${shown.join("; ")}`);
  }
  return points;
}

/** Length of a parsed trace, in seconds: its last row's second plus one. */
export function traceSeconds(points: readonly TracePoint[]): number {
  return (points.at(-1)?.second ?? 0) + 1;
}

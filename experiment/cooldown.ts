/**
 * The timeline of a run after its load has ended: a point a second at zero
 * load, each with the replica count of that moment, up to the run's horizon
 * (the profile plus the cooldown). Every run goes on to the same horizon, even
 * one whose fleet is back at its minimum early, so overlaid runs span the same
 * seconds and their replica-seconds count the same span.
 *
 * @module
 */

import type { TimelinePoint } from "../loadtest/run_record.ts";

/** Options of {@linkcode cooldownTimeline}. */
export interface CooldownOptions {
  /** `t` of the load's last timeline point, seconds; 0 without one. */
  lastT: number;
  /** Where the timeline ends, seconds since the load began. */
  horizonSeconds: number;
  /** Seconds since the load began, now. */
  elapsed: () => number;
  /** Replicas now. */
  replicas: () => number;
  /** Resolves after `ms` milliseconds; injected so tests need no real time. */
  wait: (ms: number) => Promise<void>;
  /** Ends the timeline early, e.g. on Ctrl-C. */
  signal?: AbortSignal;
}

/**
 * Waits through the cooldown and returns its points, at whole seconds after
 * `lastT` and a last one at the horizon. Each point's `t` is the second it
 * stands for, not the moment the timer fired, so every run's timeline ends at
 * exactly `horizonSeconds`. No point when the load already reached the horizon.
 */
export async function cooldownTimeline(options: CooldownOptions): Promise<TimelinePoint[]> {
  const { lastT, horizonSeconds, elapsed, signal } = options;
  const points: TimelinePoint[] = [];
  let previous = lastT;
  let target = Math.min(Math.floor(lastT) + 1, horizonSeconds);
  while (target > previous && !signal?.aborted) {
    const ms = (target - elapsed()) * 1000;
    if (ms > 0) await options.wait(ms);
    if (signal?.aborted) break;
    points.push(idlePoint(target, target - previous, options.replicas()));
    previous = target;
    target = Math.min(target + 1, horizonSeconds);
  }
  return points;
}

function idlePoint(t: number, seconds: number, replicas: number): TimelinePoint {
  return {
    t: round(t),
    seconds: round(seconds),
    offered: 0,
    offeredRate: 0,
    ok: 0,
    achievedRate: 0,
    errors: {},
    p50Ms: null,
    p95Ms: null,
    p99Ms: null,
    outstanding: 0,
    replicas,
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * One run of an experiment: the whole local system started fresh with one
 * policy, the load sent, the fleet watched to the end of the cooldown (the
 * same horizon for every run), everything stopped, and the record of what
 * happened returned.
 *
 * @module
 */

import type { Logger } from "@common/log.ts";
import { startSystem } from "../demo/system.ts";
import type { ImageFile } from "../loadtest/images.ts";
import { profileSeconds, type ProfileSpec } from "../loadtest/profile.ts";
import { type LoadProgress, type LoadSummary, runLoad } from "../loadtest/run_load.ts";
import {
  RUN_RECORD_VERSION,
  type RunRecord as LoadRunRecord,
  type TimelinePoint,
  timelinePoint,
} from "../loadtest/run_record.ts";
import type { PlannedRun } from "./config.ts";
import { cooldownTimeline } from "./cooldown.ts";
import {
  peakReplicas,
  type ReplicaEvent,
  replicaSeconds,
  scaleDownSeconds,
  scaleUpSeconds,
} from "./fleet_metrics.ts";
import type { PeakWindow } from "./profiles.ts";

/** A scaling decision the autoscaler applied. */
export interface AppliedDecision {
  /** Seconds since the load began (negative before it). */
  t: number;
  direction: string;
  current: number;
  desired: number;
  reason: string;
}

/** How the fleet behaved, computed from {@linkcode RunRecord.replicaEvents}. */
export interface FleetFacts {
  replicaSeconds: number;
  peakReplicas: number;
  /** From the start of the peak load to the first growth, seconds; null when none. */
  scaleUpSeconds: number | null;
  /** From the end of the peak load back to the earlier count, seconds; null when none. */
  scaleDownSeconds: number | null;
}

/** What the experiment adds to the load tester's record of a run. */
export interface PolicyFacts {
  label: string;
  /**
   * Which run of this policy it was, from 1 (`--repeat`); records written
   * before repeats existed lack it and count as run 1.
   */
  repeat?: number;
  policy: string;
  parameter: string | null;
  autoscalerArgs: string[];
  /** The load as `--profile` gave it; the profile itself is in `settings`. */
  profileText: string;
  /** Seeds the order of the photos. */
  seed: number;
  peak: PeakWindow;
  /** Seconds over which the cost is counted: the profile plus the cooldown. */
  horizonSeconds: number;
  /** Every change of the replica count, read from the target file. */
  replicaEvents: ReplicaEvent[];
  decisions: {
    /** Decision lines by direction (up, down, none, hold), applied or not. */
    logged: Record<string, number>;
    applied: AppliedDecision[];
  };
  fleet: FleetFacts;
}

/**
 * Everything one run measured, written as its `run.json`: the load tester's
 * record (version 1; the timeline goes on through the cooldown at zero load)
 * plus the experiment's own facts, so the load tester's report reads it too.
 */
export interface RunRecord extends LoadRunRecord {
  experiment: PolicyFacts;
}

/** Options of {@linkcode runPolicy}. */
export interface RunPolicyOptions {
  run: PlannedRun;
  /** Which run of this policy this is, from 1; default 1. */
  repeat?: number;
  /** Folder of this run: logs and Prometheus data go here. */
  dir: string;
  modelPath: string;
  prometheusBin: string;
  profileText: string;
  profile: ProfileSpec;
  seed: number;
  peak: PeakWindow;
  images: readonly ImageFile[];
  /** Where the images came from, for the record. */
  imageDir: string;
  /**
   * Seconds to watch the fleet after the profile's end; the timeline goes on
   * at zero load to the profile plus this, even with the fleet back at its
   * minimum, so every run's timeline covers the same span.
   */
  cooldownSeconds: number;
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
  onDecision?: (decision: AppliedDecision) => void;
  /** Called once the system is up, e.g. to print where its logs are. */
  onReady?: (urls: { dispatcher: string; prometheus: string }) => void;
  logger: Logger;
}

// The load tester's defaults, written out because run.json records them.
const LOAD_LIMITS = { maxOutstanding: 1000, requestTimeoutMs: 30_000, drainTimeoutMs: 30_000 };

// How often the target file is read; a change is timed to within this.
const SAMPLE_MS = 250;

/** Runs one policy from a clean start and returns its record. */
export async function runPolicy(options: RunPolicyOptions): Promise<RunRecord> {
  const { run, dir, profile, peak, signal } = options;
  const horizonSeconds = profileSeconds(profile) + options.cooldownSeconds;
  const logged: Record<string, number> = {};
  const applied: AppliedDecision[] = [];
  let loadStartedWall = Number.POSITIVE_INFINITY;

  const system = await startSystem({
    runDir: dir,
    modelPath: options.modelPath,
    prometheusBin: options.prometheusBin,
    autoscalerArgs: run.autoscalerArgs,
    // Any free port: the runs must not depend on 9090 and 9000 being free.
    prometheusPort: 0,
    dispatcherPort: 0,
    onDecision: (record) => {
      const direction = String(record.direction);
      logged[direction] = (logged[direction] ?? 0) + 1;
      if (record.applied !== true) return;
      const decision = {
        t: round((Date.parse(String(record.time)) - loadStartedWall) / 1000),
        direction,
        current: Number(record.current),
        desired: Number(record.desired),
        reason: String(record.reason),
      };
      applied.push(decision);
      options.onDecision?.(decision);
    },
    logger: options.logger,
  });

  const events: ReplicaEvent[] = [];
  const timeline: TimelinePoint[] = [];
  let sampler: ReturnType<typeof setInterval> | undefined;
  let summary: LoadSummary;
  const startedAt = new Date().toISOString();
  try {
    options.onReady?.({ dispatcher: system.dispatcherUrl, prometheus: system.prometheusUrl });
    let current = await system.replicas();
    events.push({ t: 0, replicas: current });
    const started = performance.now();
    loadStartedWall = Date.now();
    const elapsed = () => (performance.now() - started) / 1000;
    let reading = false;
    sampler = setInterval(async () => {
      if (reading) return;
      reading = true;
      try {
        const now = await system.replicas();
        if (now !== current) events.push({ t: round(elapsed()), replicas: now });
        current = now;
      } finally {
        reading = false;
      }
    }, SAMPLE_MS);

    summary = await runLoad({
      ...LOAD_LIMITS,
      url: `${system.dispatcherUrl}/classify`,
      images: options.images,
      profile,
      replicas: () => Promise.resolve(current),
      signal,
      onProgress: (progress) => {
        timeline.push(timelinePoint(progress));
        options.onProgress?.(progress);
      },
    });

    // The load is over: watch the fleet to the horizon, a point a second.
    // Stopping once it is back at its minimum would end runs at different
    // times, and their overlaid charts would span different seconds.
    timeline.push(
      ...await cooldownTimeline({
        lastT: timeline.at(-1)?.t ?? 0,
        horizonSeconds,
        elapsed,
        replicas: () => current,
        wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        signal,
      }),
    );
  } finally {
    clearInterval(sampler);
    // Stopping waits for the autoscaler to exit, so its last decision line
    // (a scale-down logs only once the replica has drained) is counted.
    await system.stop();
  }
  await Deno.remove(`${dir}/prometheus-data`, { recursive: true }).catch(() => {});

  return {
    version: RUN_RECORD_VERSION,
    startedAt,
    settings: {
      url: `${system.dispatcherUrl}/classify`,
      mode: "open",
      profile,
      users: null,
      thinkTimeMs: null,
      ...LOAD_LIMITS,
      prometheusUrl: system.prometheusUrl,
      // The sampler reads the autoscaler's target file, not Prometheus.
      replicaSource: "target file",
      images: { dir: options.imageDir, count: options.images.length },
    },
    timeline,
    summary,
    experiment: {
      label: run.label,
      repeat: options.repeat ?? 1,
      policy: run.policy,
      parameter: run.parameter ?? null,
      autoscalerArgs: run.autoscalerArgs,
      profileText: options.profileText,
      seed: options.seed,
      peak,
      horizonSeconds,
      replicaEvents: events,
      decisions: { logged, applied },
      fleet: fleetFacts(events, peak, horizonSeconds),
    },
  };
}

/** The fleet facts of a run's replica events. */
export function fleetFacts(
  events: readonly ReplicaEvent[],
  peak: PeakWindow,
  horizonSeconds: number,
): FleetFacts {
  return {
    replicaSeconds: round(replicaSeconds(events, horizonSeconds)),
    peakReplicas: peakReplicas(events),
    scaleUpSeconds: roundOrNull(scaleUpSeconds(events, peak.start)),
    scaleDownSeconds: roundOrNull(scaleDownSeconds(events, peak)),
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function roundOrNull(value: number | null): number | null {
  return value === null ? null : round(value);
}

/**
 * Runs a load and keeps what run.json needs: the settings, one timeline
 * point per progress interval and the summary.
 *
 * @module
 */

import { type LoadSummary, runLoad, type RunLoadOptions } from "./run_load.ts";
import { RUN_RECORD_VERSION, type RunRecord, timelinePoint } from "./run_record.ts";

/** Options of {@linkcode recordRun}: those of runLoad plus what the record names. */
export interface RecordRunOptions extends RunLoadOptions {
  /** The folder the images came from, for the record. */
  imagesDir: string;
  /** The Prometheus behind `replicas`, for the record. */
  prometheusUrl?: string;
  /** The clock for `startedAt`. @default () => new Date() */
  now?: () => Date;
}

/**
 * Runs {@linkcode runLoad} and returns its {@linkcode RunRecord}; progress
 * still reaches `onProgress`.
 *
 * @throws whatever runLoad throws for bad options
 */
export async function recordRun(options: RecordRunOptions): Promise<RunRecord> {
  const { imagesDir, prometheusUrl, now = () => new Date(), onProgress, ...load } = options;
  const timeline: RunRecord["timeline"] = [];
  const startedAt = now().toISOString();
  const summary: LoadSummary = await runLoad({
    ...load,
    onProgress: (progress) => {
      timeline.push(timelinePoint(progress));
      onProgress?.(progress);
    },
  });
  const profile = options.profile ??
    (options.steps ? { kind: "step" as const, steps: [...options.steps] } : null);
  return {
    version: RUN_RECORD_VERSION,
    startedAt,
    settings: {
      url: options.url,
      mode: summary.mode,
      profile: options.closedLoop ? null : profile,
      users: options.closedLoop?.users ?? null,
      thinkTimeMs: options.closedLoop ? options.closedLoop.thinkTimeMs ?? 0 : null,
      maxOutstanding: options.maxOutstanding ?? 1000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      drainTimeoutMs: options.drainTimeoutMs ?? 30_000,
      prometheusUrl: prometheusUrl ?? null,
      ...(prometheusUrl ? { replicaSource: "Prometheus" } : {}),
      images: { dir: imagesDir, count: options.images.length },
    },
    timeline,
    summary,
  };
}

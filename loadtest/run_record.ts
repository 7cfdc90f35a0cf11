/**
 * The file `--out run.json` writes: one run's settings, its timeline second by
 * second and its summary. The shape is versioned; a reader of version 1 may
 * rely on every field documented here, and a change that removes or renames
 * a field raises the version.
 *
 * @module
 */

import type { ProfileSpec } from "./profile.ts";
import type { LatencySummary, LoadProgress, LoadSummary } from "./run_load.ts";

/** Version of the run.json shape this code writes and reads. */
export const RUN_RECORD_VERSION = 1;

/** How the run was set up. */
export interface RunSettings {
  url: string;
  mode: "open" | "closed";
  /** The open-loop profile; null for a closed loop. */
  profile: ProfileSpec | null;
  /** Virtual users of a closed loop; null for an open loop. */
  users: number | null;
  /** Think time of a closed loop, in ms; null for an open loop. */
  thinkTimeMs: number | null;
  maxOutstanding: number;
  requestTimeoutMs: number;
  drainTimeoutMs: number;
  /** The Prometheus asked for replica counts; null without --prometheus. */
  prometheusUrl: string | null;
  /**
   * Where `timeline[].replicas` came from, in words fit for a chart title,
   * e.g. `Prometheus` or `target file`. Optional, so version 1 records
   * written before it still read; without it the counts came from
   * Prometheus when `prometheusUrl` is set.
   */
  replicaSource?: string;
  /** The folder of images and how many were sent in turn. */
  images: { dir: string; count: number };
}

/** One progress interval (normally one second) of the timeline. */
export interface TimelinePoint {
  /** Seconds since the start, at the end of the interval. */
  t: number;
  /** Length of the interval, in seconds. */
  seconds: number;
  offered: number;
  /** Arrivals per second. */
  offeredRate: number;
  ok: number;
  /** 2xx answers per second. */
  achievedRate: number;
  /** Failures by kind: HTTP status, `network`, `timeout`, `client_overflow`. */
  errors: Record<string, number>;
  /** Latency percentiles of the interval's 2xx answers, ms; null without any. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** Requests awaiting an answer at the end of the interval. */
  outstanding: number;
  /** Replicas per `settings.replicaSource`; null without a source or an answer. */
  replicas: number | null;
}

/** The content of run.json. */
export interface RunRecord {
  version: typeof RUN_RECORD_VERSION;
  /** When the run started, ISO 8601 UTC. */
  startedAt: string;
  settings: RunSettings;
  timeline: TimelinePoint[];
  summary: LoadSummary;
}

/** The timeline entry of one progress report. */
export function timelinePoint(progress: LoadProgress): TimelinePoint {
  return {
    t: progress.elapsedSeconds,
    seconds: progress.intervalSeconds,
    offered: progress.offered,
    offeredRate: progress.offeredRate,
    ok: progress.ok,
    achievedRate: progress.achievedRate,
    errors: { ...progress.errors },
    p50Ms: progress.p50Ms,
    p95Ms: progress.p95Ms,
    p99Ms: progress.p99Ms,
    outstanding: progress.outstanding,
    replicas: progress.replicas,
  };
}

/**
 * Reads and validates run.json text.
 *
 * @throws {SyntaxError} when the text is not JSON
 * @throws {TypeError} naming the first field that does not fit the shape
 */
export function parseRunRecord(text: string): RunRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(`Cannot read run.json: not JSON (${(error as Error).message})`);
  }
  return checkRunRecord(value);
}

/**
 * Reads and validates the run.json file at `path`.
 *
 * @throws {Deno.errors.NotFound} when there is no such file
 * @throws {SyntaxError} and {TypeError} as {@linkcode parseRunRecord} does
 */
export async function readRunRecord(path: string): Promise<RunRecord> {
  const text = await Deno.readTextFile(path);
  try {
    return parseRunRecord(text);
  } catch (error) {
    (error as Error).message = `${(error as Error).message} (file ${path})`;
    throw error;
  }
}

/**
 * Checks that `value` has the shape of a {@linkcode RunRecord} and returns it.
 *
 * @throws {TypeError} naming the first field that does not fit, e.g.
 * `timeline[3].p50Ms: expected a number or null, got "fast"`
 */
export function checkRunRecord(value: unknown): RunRecord {
  const fail = (path: string, rule: string, got: unknown): never => {
    throw new TypeError(`Cannot read run.json: ${path}: expected ${rule}, got ${show(got)}`);
  };
  const object = (v: unknown, path: string) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) fail(path, "an object", v);
    return v as Record<string, unknown>;
  };
  const number = (o: Record<string, unknown>, key: string, path: string) => {
    if (typeof o[key] !== "number" || !Number.isFinite(o[key])) {
      fail(`${path}.${key}`, "a number", o[key]);
    }
  };
  const numberOrNull = (o: Record<string, unknown>, key: string, path: string) => {
    if (o[key] !== null) {
      if (typeof o[key] !== "number" || !Number.isFinite(o[key])) {
        fail(`${path}.${key}`, "a number or null", o[key]);
      }
    }
  };
  const string = (o: Record<string, unknown>, key: string, path: string) => {
    if (typeof o[key] !== "string") fail(`${path}.${key}`, "a string", o[key]);
  };
  const counts = (v: unknown, path: string) => {
    const o = object(v, path);
    for (const [kind, count] of Object.entries(o)) {
      if (!(Number.isInteger(count) && (count as number) >= 0)) {
        fail(`${path}.${kind}`, "a count", count);
      }
    }
  };

  const root = object(value, "run");
  if (root.version !== RUN_RECORD_VERSION) {
    fail("version", `${RUN_RECORD_VERSION} (this reader's version)`, root.version);
  }
  if (typeof root.startedAt !== "string") fail("startedAt", "a string", root.startedAt);

  const settings = object(root.settings, "settings");
  string(settings, "url", "settings");
  if (settings.mode !== "open" && settings.mode !== "closed") {
    fail("settings.mode", '"open" or "closed"', settings.mode);
  }
  if (settings.mode === "open") object(settings.profile, "settings.profile");
  for (const key of ["users", "thinkTimeMs"]) numberOrNull(settings, key, "settings");
  for (const key of ["maxOutstanding", "requestTimeoutMs", "drainTimeoutMs"]) {
    number(settings, key, "settings");
  }
  object(settings.images, "settings.images");
  if (settings.replicaSource !== undefined) string(settings, "replicaSource", "settings");

  if (!Array.isArray(root.timeline)) fail("timeline", "an array", root.timeline);
  (root.timeline as unknown[]).forEach((entry, i) => {
    const path = `timeline[${i}]`;
    const point = object(entry, path);
    for (const key of ["t", "seconds", "offered", "offeredRate", "ok", "achievedRate"]) {
      number(point, key, path);
    }
    number(point, "outstanding", path);
    for (const key of ["p50Ms", "p95Ms", "p99Ms", "replicas"]) numberOrNull(point, key, path);
    counts(point.errors, `${path}.errors`);
  });

  const summary = object(root.summary, "summary");
  for (
    const key of ["scheduledSeconds", "durationSeconds", "offered", "sent", "ok", "failed"]
  ) number(summary, key, "summary");
  number(summary, "offeredRate", "summary");
  number(summary, "achievedRate", "summary");
  counts(summary.errors, "summary.errors");
  if (summary.latencyMs !== null) {
    const latency = object(summary.latencyMs, "summary.latencyMs");
    const keys: (keyof LatencySummary)[] = ["p50", "p90", "p95", "p99", "p999", "max"];
    for (const key of keys) number(latency, key, "summary.latencyMs");
  }
  return value as RunRecord;
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

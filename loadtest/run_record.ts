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
 * Checks that `value` has the shape of a {@linkcode RunRecord}, with values
 * the load tester could have written, and returns it. Besides the types it
 * refuses negative counts, rates, latencies and lengths, a timeline whose `t`
 * does not increase, percentiles out of order and a summary whose counts
 * contradict each other (e.g. more 2xx answers than requests sent): a damaged
 * file is refused rather than drawn.
 *
 * @throws {TypeError} naming the first field that does not fit, e.g.
 * `timeline[3].p50Ms: expected a number of ms from 0 or null, got "fast"`
 */
export function checkRunRecord(value: unknown): RunRecord {
  const fail = (path: string, rule: string, got: unknown): never => {
    throw new TypeError(`Cannot read run.json: ${path}: expected ${rule}, got ${show(got)}`);
  };
  const object = (v: unknown, path: string) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) fail(path, "an object", v);
    return v as Record<string, unknown>;
  };
  const number = (o: Record<string, unknown>, key: string, path: string, kind: Kind) => {
    const v = o[key];
    if (typeof v !== "number" || !Number.isFinite(v) || !KINDS[kind].fits(v)) {
      fail(`${path}.${key}`, KINDS[kind].rule, v);
    }
    return v as number;
  };
  const numberOrNull = (o: Record<string, unknown>, key: string, path: string, kind: Kind) => {
    const v = o[key];
    if (v === null) return null;
    if (typeof v !== "number" || !Number.isFinite(v) || !KINDS[kind].fits(v)) {
      fail(`${path}.${key}`, `${KINDS[kind].rule} or null`, v);
    }
    return v as number;
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
  // Percentiles of one set of answers cannot fall as the rank rises.
  const ordered = (o: Record<string, unknown>, keys: readonly string[], path: string) => {
    let previous: string | undefined;
    for (const key of keys) {
      if (o[key] === null) continue;
      if (previous !== undefined && (o[key] as number) < (o[previous] as number)) {
        fail(`${path}.${key}`, `at least ${path}.${previous} (${o[previous]})`, o[key]);
      }
      previous = key;
    }
  };
  const atMost = (o: Record<string, unknown>, key: string, limit: string, path: string) => {
    if ((o[key] as number) > (o[limit] as number)) {
      fail(`${path}.${key}`, `at most ${path}.${limit} (${o[limit]})`, o[key]);
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
  numberOrNull(settings, "users", "settings", "count");
  numberOrNull(settings, "thinkTimeMs", "settings", "amount");
  number(settings, "maxOutstanding", "settings", "count");
  number(settings, "requestTimeoutMs", "settings", "amount");
  number(settings, "drainTimeoutMs", "settings", "amount");
  object(settings.images, "settings.images");
  if (settings.replicaSource !== undefined) string(settings, "replicaSource", "settings");

  if (!Array.isArray(root.timeline)) fail("timeline", "an array", root.timeline);
  let previousT: number | undefined;
  (root.timeline as unknown[]).forEach((entry, i) => {
    const path = `timeline[${i}]`;
    const point = object(entry, path);
    const t = number(point, "t", path, "amount");
    if (previousT !== undefined && t <= previousT) {
      fail(`${path}.t`, `more than timeline[${i - 1}].t (${previousT})`, t);
    }
    previousT = t;
    number(point, "seconds", path, "amount");
    for (const key of ["offered", "ok", "outstanding"]) number(point, key, path, "count");
    for (const key of ["offeredRate", "achievedRate"]) number(point, key, path, "amount");
    for (const key of ["p50Ms", "p95Ms", "p99Ms"]) numberOrNull(point, key, path, "ms");
    ordered(point, ["p50Ms", "p95Ms", "p99Ms"], path);
    numberOrNull(point, "replicas", path, "count");
    counts(point.errors, `${path}.errors`);
  });

  const summary = object(root.summary, "summary");
  for (const key of ["scheduledSeconds", "durationSeconds", "offeredRate", "achievedRate"]) {
    number(summary, key, "summary", "amount");
  }
  for (const key of ["offered", "sent", "ok", "failed"]) number(summary, key, "summary", "count");
  atMost(summary, "sent", "offered", "summary");
  atMost(summary, "ok", "sent", "summary");
  if ((summary.ok as number) + (summary.failed as number) > (summary.offered as number)) {
    fail(
      "summary.failed",
      `at most summary.offered - summary.ok (${summary.offered} - ${summary.ok})`,
      summary.failed,
    );
  }
  counts(summary.errors, "summary.errors");
  if (summary.latencyMs !== null) {
    const latency = object(summary.latencyMs, "summary.latencyMs");
    const keys: (keyof LatencySummary)[] = ["p50", "p90", "p95", "p99", "p999", "max"];
    for (const key of keys) number(latency, key, "summary.latencyMs", "ms");
    ordered(latency, keys, "summary.latencyMs");
  }
  return value as RunRecord;
}

type Kind = "count" | "amount" | "ms";

const KINDS: Record<Kind, { rule: string; fits: (n: number) => boolean }> = {
  count: { rule: "a whole number from 0", fits: (n) => Number.isInteger(n) && n >= 0 },
  amount: { rule: "a number from 0", fits: (n) => n >= 0 },
  ms: { rule: "a number of ms from 0", fits: (n) => n >= 0 },
};

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  // JSON would show Infinity and NaN as null, hiding what was wrong.
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/**
 * An open-loop load generator. Arrival times come from the rate profile and
 * are fixed in advance; each arrival sends one request whatever happened to the
 * earlier ones, so a slow server meets the load it was offered instead of a
 * politely reduced one (no coordinated omission). Latency is measured from the
 * arrival's scheduled time, so any lag of the generator itself counts against
 * the result rather than hiding it.
 *
 * A cap on outstanding requests protects the generator: an arrival that finds
 * the cap reached is counted as a `client_overflow` error and not sent.
 *
 * @module
 */

import type { ImageFile } from "./images.ts";
import { percentile, sortedCopy } from "./percentile.ts";
import { arrivalCount, arrivalTimes, type RateStep, totalSeconds } from "./schedule.ts";
import { Tally } from "./tally.ts";

/** Where the number of live replicas comes from, e.g. a Prometheus query. */
export type ReplicaSource = () => Promise<number | undefined>;

/** Error kinds besides HTTP statuses (which appear as e.g. `"503"`). */
export const ERROR_KINDS = {
  /** Connection refused or reset, or another transport failure. */
  network: "network",
  /** No complete answer within the request timeout or the drain timeout. */
  timeout: "timeout",
  /** Not sent: the cap on outstanding requests was reached. */
  clientOverflow: "client_overflow",
} as const;

/**
 * Most arrivals one run may schedule. The arrival times, the latency of every
 * answer and, for the summary, a sorted copy of those latencies take 8 bytes
 * each per arrival, so this bounds the generator's memory near 240 MB; it
 * allows, e.g., 100/s for 27 hours.
 */
export const MAX_ARRIVALS = 10_000_000;

/** Options of {@linkcode runLoad}. */
export interface RunLoadOptions {
  /** Where each request is POSTed, e.g. `http://127.0.0.1:9000/classify`. */
  url: string;
  /** The rate profile. */
  steps: readonly RateStep[];
  /** Images to send, cycled in order. */
  images: readonly ImageFile[];
  /** Most requests awaiting an answer at once. @default 1000 */
  maxOutstanding?: number;
  /** Time limit of one request, answer body included, in ms. @default 30000 */
  requestTimeoutMs?: number;
  /** How long to wait for outstanding answers after the profile ends, in ms. @default 30000 */
  drainTimeoutMs?: number;
  /** Queried once per progress interval; its latest answer goes into each progress. */
  replicas?: ReplicaSource;
  /** Called once per progress interval, and once more for a final partial interval. */
  onProgress?: (progress: LoadProgress) => void;
  /** Length of a progress interval, in ms. @default 1000 */
  progressIntervalMs?: number;
  /** Stops arrivals early; outstanding requests still drain. */
  signal?: AbortSignal;
}

/** What happened during one progress interval (normally one second). */
export interface LoadProgress {
  /** Seconds since the start, at the end of this interval. */
  elapsedSeconds: number;
  /** Length of the rate profile, in seconds. */
  totalSeconds: number;
  /** Length of this interval, in seconds. */
  intervalSeconds: number;
  /** Arrivals in this interval, sent or not. */
  offered: number;
  /** Arrivals per second in this interval. */
  offeredRate: number;
  /** 2xx answers received in this interval. */
  ok: number;
  /** 2xx answers per second in this interval. */
  achievedRate: number;
  /** Failures in this interval by kind: HTTP status, `network`, `timeout`, `client_overflow`. */
  errors: Record<string, number>;
  /** Median latency of the 2xx answers of this interval, ms; null without any. */
  p50Ms: number | null;
  /** 95th percentile latency of the 2xx answers of this interval, ms; null without any. */
  p95Ms: number | null;
  /** Requests awaiting an answer at the end of the interval. */
  outstanding: number;
  /** Latest answer of the replica source; null without a source or an answer. */
  replicas: number | null;
}

/** Latency of the 2xx answers of a whole run, exact, in milliseconds. */
export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** The result of a whole run. */
export interface LoadSummary {
  url: string;
  /** Length of the rate profile, in seconds. */
  scheduledSeconds: number;
  /** Wall time from start until the last answer (or the drain timeout), in seconds. */
  durationSeconds: number;
  /** Arrivals reached (fewer than scheduled when stopped early). */
  offered: number;
  /** Requests actually sent (offered minus client overflows). */
  sent: number;
  /** 2xx answers. */
  ok: number;
  /** Arrivals that did not end in a 2xx answer. */
  failed: number;
  /** Failures by kind. */
  errors: Record<string, number>;
  /** Latency of the 2xx answers; null when there was none. */
  latencyMs: LatencySummary | null;
  /** Arrivals per second over the profile. */
  offeredRate: number;
  /** 2xx answers per second over the whole duration. */
  achievedRate: number;
  /** True when `signal` ended the arrivals before the profile's end. */
  stoppedEarly: boolean;
}

/**
 * Runs the load and resolves with its summary once the profile has ended and
 * every request has been answered or given up on (after `drainTimeoutMs`).
 *
 * @throws {TypeError} when `url` is not an http(s) URL or `images` is empty
 * @throws {RangeError} when a number option is out of range, `steps` is empty,
 * holds a step that is not finite, or schedules more than {@linkcode MAX_ARRIVALS}
 */
export async function runLoad(options: RunLoadOptions): Promise<LoadSummary> {
  const {
    url,
    steps,
    images,
    maxOutstanding = 1000,
    requestTimeoutMs = 30_000,
    drainTimeoutMs = 30_000,
    progressIntervalMs = 1000,
    replicas,
    onProgress,
    signal,
  } = options;
  validate(options, { maxOutstanding, requestTimeoutMs, drainTimeoutMs, progressIntervalMs });

  const times = arrivalTimes(steps);
  const scheduledMs = totalSeconds(steps) * 1000;
  const total = new Tally();
  let interval = new Tally();
  let intervalStart = 0;
  let outstanding = 0;
  const inFlight = new Set<Promise<void>>();
  const giveUp = new AbortController();
  let latestReplicas: number | null = null;
  let replicaQuery: Promise<void> | undefined;

  const start = performance.now();
  const elapsed = () => performance.now() - start;

  const refreshReplicas = () => {
    if (!replicas || replicaQuery) return;
    replicaQuery = replicas()
      .then((value) => {
        latestReplicas = value ?? null;
      }, () => {
        latestReplicas = null;
      })
      .finally(() => replicaQuery = undefined);
  };

  const report = () => {
    const now = elapsed();
    // A final report can follow a tick within the same millisecond.
    const seconds = Math.max((now - intervalStart) / 1000, 1e-3);
    const sorted = sortedCopy(interval.latencies);
    const progress: LoadProgress = {
      elapsedSeconds: round(now / 1000, 3),
      totalSeconds: scheduledMs / 1000,
      intervalSeconds: round(seconds, 3),
      offered: interval.offered,
      offeredRate: round(interval.offered / seconds, 2),
      ok: interval.ok,
      achievedRate: round(interval.ok / seconds, 2),
      errors: interval.errors,
      p50Ms: roundOrNull(percentile(sorted, 50)),
      p95Ms: roundOrNull(percentile(sorted, 95)),
      outstanding,
      replicas: latestReplicas,
    };
    interval = new Tally();
    intervalStart = now;
    refreshReplicas();
    onProgress?.(progress);
  };

  const send = async (index: number, scheduledAt: number) => {
    const image = images[index % images.length];
    const timeout = AbortSignal.timeout(requestTimeoutMs);
    let kind = "ok";
    try {
      const response = await fetch(url, {
        method: "POST",
        body: image.bytes,
        headers: { "content-type": image.contentType },
        signal: AbortSignal.any([timeout, giveUp.signal]),
      });
      await response.arrayBuffer();
      if (response.status < 200 || response.status > 299) kind = String(response.status);
    } catch {
      kind = timeout.aborted || giveUp.signal.aborted ? ERROR_KINDS.timeout : ERROR_KINDS.network;
    }
    outstanding--;
    if (kind === "ok") {
      const latency = performance.now() - (start + scheduledAt);
      total.succeed(latency);
      interval.succeed(latency);
    } else {
      total.fail(kind);
      interval.fail(kind);
    }
  };

  const arrive = (index: number, scheduledAt: number) => {
    total.offered++;
    interval.offered++;
    if (outstanding >= maxOutstanding) {
      total.fail(ERROR_KINDS.clientOverflow);
      interval.fail(ERROR_KINDS.clientOverflow);
      return;
    }
    total.sent++;
    interval.sent++;
    outstanding++;
    const request = send(index, scheduledAt);
    inFlight.add(request);
    request.finally(() => inFlight.delete(request));
  };

  refreshReplicas();
  const ticker = setInterval(report, progressIntervalMs);
  let next = 0;
  let endedAt = 0;
  let arrivalsEndedAt = scheduledMs;
  try {
    // Every arrival whose time has come is sent at once, so a late timer
    // sends a small burst instead of shifting the rest of the schedule.
    while (next < times.length && !signal?.aborted) {
      const now = elapsed();
      while (next < times.length && times[next] <= now) arrive(next, times[next++]);
      if (next < times.length) await sleep(times[next] - elapsed(), signal);
    }
    // A trailing pause in the profile is part of it.
    if (!signal?.aborted) await sleep(scheduledMs - elapsed(), signal);
    arrivalsEndedAt = Math.min(elapsed(), scheduledMs);

    await settleWithin([...inFlight], drainTimeoutMs);
    endedAt = elapsed();
    giveUp.abort();
    await Promise.allSettled([...inFlight]);
  } finally {
    clearInterval(ticker);
    giveUp.abort();
  }
  if (interval.busy) report();
  await replicaQuery;

  const durationSeconds = endedAt / 1000;
  const sorted = sortedCopy(total.latencies);
  return {
    url,
    scheduledSeconds: scheduledMs / 1000,
    durationSeconds: round(durationSeconds, 3),
    offered: total.offered,
    sent: total.sent,
    ok: total.ok,
    failed: total.failed,
    errors: total.errors,
    latencyMs: sorted.length === 0 ? null : {
      p50: round(percentile(sorted, 50)!, 1),
      p95: round(percentile(sorted, 95)!, 1),
      p99: round(percentile(sorted, 99)!, 1),
      max: round(sorted[sorted.length - 1], 1),
    },
    // Over the time arrivals really ran: a run stopped early offered nothing after.
    offeredRate: round(total.offered / Math.max(arrivalsEndedAt / 1000, 1e-3), 2),
    achievedRate: round(total.ok / Math.max(durationSeconds, 1e-3), 2),
    stoppedEarly: next < times.length,
  };
}

function validate(
  options: RunLoadOptions,
  numbers: Record<string, number>,
): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(options.url);
  } catch {
    // Reported below with the rule.
  }
  if (!parsed || !/^https?:$/.test(parsed.protocol)) {
    throw new TypeError(`Cannot run load: expected an http(s) URL, got "${options.url}"`);
  }
  if (options.images.length === 0) {
    throw new TypeError("Cannot run load: expected at least one image, got none");
  }
  if (options.steps.length === 0) {
    throw new RangeError("Cannot run load: expected a profile of at least one step, got none");
  }
  options.steps.forEach(({ rate, seconds }, index) => {
    if (!(rate >= 0 && Number.isFinite(rate) && seconds > 0 && Number.isFinite(seconds))) {
      throw new RangeError(
        `Cannot run load: expected step ${index + 1} to have a finite rate >= 0 and ` +
          `seconds > 0, got rate ${rate} and seconds ${seconds}`,
      );
    }
  });
  const arrivals = arrivalCount(options.steps);
  if (arrivals > MAX_ARRIVALS) {
    throw new RangeError(
      `Cannot run load: expected at most ${MAX_ARRIVALS} arrivals, got ${arrivals}; ` +
        "lower the rate or shorten the profile",
    );
  }
  for (const [name, value] of Object.entries(numbers)) {
    if (!(value > 0) || !Number.isFinite(value)) {
      throw new RangeError(`Cannot run load: expected ${name} > 0, got ${value}`);
    }
  }
  if (!Number.isInteger(numbers.maxOutstanding)) {
    throw new RangeError(
      `Cannot run load: expected an integer maxOutstanding, got ${numbers.maxOutstanding}`,
    );
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Resolves when every promise has settled or `ms` has passed, whichever is first. */
async function settleWithin(promises: Promise<unknown>[], ms: number): Promise<void> {
  if (promises.length === 0) return;
  const stop = new AbortController();
  await Promise.race([Promise.allSettled(promises), sleep(ms, stop.signal)]);
  stop.abort();
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function roundOrNull(value: number | undefined): number | null {
  return value === undefined ? null : round(value, 1);
}

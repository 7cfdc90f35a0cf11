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
 * With `closedLoop` the generator works the other way, as N virtual users:
 * each sends, waits for the answer, optionally thinks, and sends again. The
 * server then sets the pace, and latency counts from the real send.
 *
 * @module
 */

import type { ImageFile } from "./images.ts";
import { type LatencyPercentiles } from "./latency.ts";
import {
  profileArrivalCount,
  profileArrivalTimes,
  profileSeconds,
  type ProfileSpec,
} from "./profile.ts";
import type { RateStep } from "./schedule.ts";
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
 * Most arrivals one run may schedule. The arrival times take 8 bytes each
 * (latencies go into fixed-size histograms), so this bounds the schedule near
 * 80 MB; it allows, e.g., 100/s for 27 hours.
 */
export const MAX_ARRIVALS = 10_000_000;

/** Options of {@linkcode runLoad}. */
export interface RunLoadOptions {
  /** Where each request is POSTed, e.g. `http://127.0.0.1:9000/classify`. */
  url: string;
  /** An open-loop profile as steps; give exactly one of `steps`, `profile`, `closedLoop`. */
  steps?: readonly RateStep[];
  /** An open-loop rate profile of any kind. */
  profile?: ProfileSpec;
  /** Virtual users instead of a rate profile. */
  closedLoop?: ClosedLoop;
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

/** Settings of a closed-loop run. */
export interface ClosedLoop {
  /** Virtual users, each with one request at a time. */
  users: number;
  /** How long users keep sending, in seconds. */
  seconds: number;
  /** Pause of a user between an answer and its next request, in ms. @default 0 */
  thinkTimeMs?: number;
}

/** What happened during one progress interval (normally one second). */
export interface LoadProgress {
  /** Seconds since the start, at the end of this interval. */
  elapsedSeconds: number;
  /** Length of the rate profile, in seconds. */
  totalSeconds: number;
  /** Length of this interval, in seconds. */
  intervalSeconds: number;
  /**
   * Arrivals scheduled in this interval's slot of the schedule, [k, k+1)
   * intervals from the start, sent or not (closed loop: requests sent then).
   * Counted by scheduled time, so a constant profile shows its rate exactly,
   * however late the progress timer fires.
   */
  offered: number;
  /** `offered` per second of the slot (the last slot: of its part within the profile). */
  offeredRate: number;
  /** 2xx answers received in this interval. */
  ok: number;
  /** 2xx answers per second in this interval. */
  achievedRate: number;
  /**
   * Failures by kind: HTTP status, `network` and `timeout` by when they
   * happened in this interval, `client_overflow` by the slot, as `offered`.
   */
  errors: Record<string, number>;
  /** Median latency of the 2xx answers of this interval, ms; null without any. */
  p50Ms: number | null;
  /** 95th percentile latency of the 2xx answers of this interval, ms; null without any. */
  p95Ms: number | null;
  /** 99th percentile latency of the 2xx answers of this interval, ms; null without any. */
  p99Ms: number | null;
  /** Requests awaiting an answer at the end of the interval. */
  outstanding: number;
  /** Latest answer of the replica source; null without a source or an answer. */
  replicas: number | null;
}

/**
 * Latency of the 2xx answers of a whole run, in milliseconds, from an HDR
 * histogram (3 significant digits, microsecond resolution).
 */
export type LatencySummary = LatencyPercentiles;

/** The result of a whole run. */
export interface LoadSummary {
  url: string;
  /** `open` for a rate profile, `closed` for virtual users. */
  mode: "open" | "closed";
  /** Length of the rate profile (closed loop: of the run), in seconds. */
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
  /** Arrivals (closed loop: requests sent) per second over the profile. */
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
 * @throws {RangeError} when a number option is out of range, not exactly one of
 * `steps`, `profile` and `closedLoop` is given, `steps` is empty or holds a step
 * that is not finite, or the profile schedules more than {@linkcode MAX_ARRIVALS}
 */
export async function runLoad(options: RunLoadOptions): Promise<LoadSummary> {
  const {
    url,
    images,
    closedLoop,
    maxOutstanding = 1000,
    requestTimeoutMs = 30_000,
    drainTimeoutMs = 30_000,
    progressIntervalMs = 1000,
    replicas,
    onProgress,
    signal,
  } = options;
  const thinkTimeMs = closedLoop?.thinkTimeMs ?? 0;
  const profile = validate(options, {
    maxOutstanding,
    requestTimeoutMs,
    drainTimeoutMs,
    progressIntervalMs,
  }, thinkTimeMs);

  const times = profile ? profileArrivalTimes(profile) : [];
  const scheduledMs = (profile ? profileSeconds(profile) : closedLoop!.seconds) * 1000;
  const total = new Tally();
  // Answers are counted by when they come; arrivals by the slot of the
  // schedule they belong to, [k, k+1) intervals, kept apart until reported.
  let answers = new Tally();
  const slots = new Map<number, Tally>();
  const slotOf = (ms: number): Tally => {
    const k = Math.floor(ms / progressIntervalMs);
    let slot = slots.get(k);
    if (!slot) slots.set(k, slot = new Tally());
    return slot;
  };
  let reported = 0;
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

  /** Reports slot `reported`, up to `now` (before its end only for the last one). */
  const report = (now: number) => {
    // A final report can follow a tick within the same millisecond.
    const seconds = Math.max((now - intervalStart) / 1000, 1e-3);
    const slotStart = reported * progressIntervalMs;
    let slotEnd = Math.min(slotStart + progressIntervalMs, now);
    // The profile's last slot may be cut short by its end.
    if (slotStart < scheduledMs) slotEnd = Math.min(slotEnd, scheduledMs);
    const slotSeconds = Math.max((slotEnd - slotStart) / 1000, 1e-3);
    const slot = slots.get(reported) ?? new Tally();
    slots.delete(reported);
    const errors = { ...answers.errors };
    for (const [kind, count] of Object.entries(slot.errors)) {
      errors[kind] = (errors[kind] ?? 0) + count;
    }
    const latency = answers.latency;
    const progress: LoadProgress = {
      elapsedSeconds: round(now / 1000, 3),
      totalSeconds: scheduledMs / 1000,
      intervalSeconds: round(seconds, 3),
      offered: slot.offered,
      offeredRate: round(slot.offered / slotSeconds, 2),
      ok: answers.ok,
      achievedRate: round(answers.ok / seconds, 2),
      errors,
      p50Ms: latency.percentile(50),
      p95Ms: latency.percentile(95),
      p99Ms: latency.percentile(99),
      outstanding,
      replicas: latestReplicas,
    };
    answers = new Tally();
    intervalStart = now;
    reported++;
    refreshReplicas();
    onProgress?.(progress);
  };

  // Arrivals due by now; sent from the main loop, and from a tick before it
  // reports, so that a slot is complete when reported even if the loop lags.
  let next = 0;
  const arriveDue = () => {
    const now = elapsed();
    while (next < times.length && times[next] <= now && !signal?.aborted) {
      arrive(next, times[next++]);
    }
  };

  // Each tick aims at the next slot boundary instead of repeating a period,
  // so lateness does not add up; a tick that comes very late reports every
  // slot that has ended.
  let ticker: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    arriveDue();
    const now = elapsed();
    while ((reported + 1) * progressIntervalMs <= now) report(now);
    ticker = setTimeout(tick, Math.max((reported + 1) * progressIntervalMs - elapsed(), 0));
  };

  const send = async (index: number, startedAt: number) => {
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
      const latency = performance.now() - (start + startedAt);
      total.succeed(latency);
      answers.succeed(latency);
    } else {
      total.fail(kind);
      answers.fail(kind);
    }
  };

  function arrive(index: number, scheduledAt: number) {
    const slot = slotOf(scheduledAt);
    total.offered++;
    slot.offered++;
    if (outstanding >= maxOutstanding) {
      total.fail(ERROR_KINDS.clientOverflow);
      slot.fail(ERROR_KINDS.clientOverflow);
      return;
    }
    total.sent++;
    slot.sent++;
    outstanding++;
    const request = send(index, scheduledAt);
    inFlight.add(request);
    request.finally(() => inFlight.delete(request));
  }

  // Closed loop: each user is a loop of send, await, think. Stopping ends the
  // loops after their current request; the drain below waits for those.
  const stopUsers = new AbortController();
  let sentByUsers = 0;
  const user = async () => {
    while (!stopUsers.signal.aborted) {
      const index = sentByUsers++;
      const sentAt = elapsed();
      const slot = slotOf(sentAt);
      total.offered++;
      slot.offered++;
      total.sent++;
      slot.sent++;
      outstanding++;
      await send(index, sentAt);
      await sleep(thinkTimeMs, stopUsers.signal);
    }
  };

  refreshReplicas();
  ticker = setTimeout(tick, progressIntervalMs);
  let endedAt = 0;
  let arrivalsEndedAt = scheduledMs;
  try {
    if (closedLoop) {
      for (let i = 0; i < closedLoop.users; i++) {
        const loop = user();
        inFlight.add(loop);
        loop.finally(() => inFlight.delete(loop));
      }
      await sleep(scheduledMs - elapsed(), signal);
      stopUsers.abort();
    }
    // Every arrival whose time has come is sent at once, so a late timer
    // sends a small burst instead of shifting the rest of the schedule.
    while (next < times.length && !signal?.aborted) {
      arriveDue();
      if (next < times.length) await sleep(times[next] - elapsed(), signal);
    }
    // A trailing pause in the profile is part of it.
    if (!signal?.aborted) await sleep(scheduledMs - elapsed(), signal);
    // A timer may fire a fraction of a millisecond early; a schedule that ran
    // its course spans exactly its length, or the offered rate would read high.
    arrivalsEndedAt = signal?.aborted ? Math.min(elapsed(), scheduledMs) : scheduledMs;

    await settleWithin([...inFlight], drainTimeoutMs);
    endedAt = elapsed();
    giveUp.abort();
    await Promise.allSettled([...inFlight]);
  } finally {
    clearTimeout(ticker);
    stopUsers.abort();
    giveUp.abort();
  }
  const now = elapsed();
  while ((reported + 1) * progressIntervalMs <= now) report(now);
  if (answers.busy || [...slots.values()].some((slot) => slot.busy)) report(now);
  await replicaQuery;

  const durationSeconds = endedAt / 1000;
  const latency = total.latency.summary();
  return {
    url,
    mode: closedLoop ? "closed" : "open",
    scheduledSeconds: scheduledMs / 1000,
    durationSeconds: round(durationSeconds, 3),
    offered: total.offered,
    sent: total.sent,
    ok: total.ok,
    failed: total.failed,
    errors: total.errors,
    latencyMs: latency,
    // Over the time arrivals really ran: a run stopped early offered nothing after.
    offeredRate: round(total.offered / Math.max(arrivalsEndedAt / 1000, 1e-3), 2),
    achievedRate: round(total.ok / Math.max(durationSeconds, 1e-3), 2),
    stoppedEarly: closedLoop ? arrivalsEndedAt < scheduledMs - 1 : next < times.length,
  };
}

/** Checks every option and returns the open-loop profile, or undefined for a closed loop. */
function validate(
  options: RunLoadOptions,
  numbers: Record<string, number>,
  thinkTimeMs: number,
): ProfileSpec | undefined {
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
  const given = [options.steps, options.profile, options.closedLoop].filter((o) => o);
  if (given.length !== 1) {
    throw new RangeError(
      "Cannot run load: expected exactly one of steps, profile and closedLoop, " +
        `got ${given.length}`,
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

  const loop = options.closedLoop;
  if (loop) {
    if (!(Number.isInteger(loop.users) && loop.users >= 1 && loop.users <= 100_000)) {
      throw new RangeError(
        `Cannot run load: expected closedLoop.users from 1 to 100000, got ${loop.users}`,
      );
    }
    if (!(loop.seconds > 0 && Number.isFinite(loop.seconds))) {
      throw new RangeError(`Cannot run load: expected closedLoop.seconds > 0, got ${loop.seconds}`);
    }
    if (!(thinkTimeMs >= 0 && Number.isFinite(thinkTimeMs))) {
      throw new RangeError(`Cannot run load: expected thinkTimeMs >= 0, got ${thinkTimeMs}`);
    }
    return undefined;
  }

  if (options.steps) {
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
  }
  const profile: ProfileSpec = options.profile ?? { kind: "step", steps: [...options.steps!] };
  const arrivals = profileArrivalCount(profile);
  if (arrivals > MAX_ARRIVALS) {
    throw new RangeError(
      `Cannot run load: expected at most ${MAX_ARRIVALS} arrivals, got ${arrivals}; ` +
        "lower the rate or shorten the profile",
    );
  }
  return profile;
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

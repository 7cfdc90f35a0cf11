/**
 * Keeps the outcome of asynchronous classification jobs until their clients
 * fetch it. Memory is bounded three ways: a number of entries, an estimate of
 * bytes, and time. A finished entry lives `ttlMs` after it finished; a pending
 * one is failed with 504 when its own deadline passes, and then lives `ttlMs`
 * too, so a client polling late still learns why.
 *
 * No entry owns a timer. Because both durations are the same for every
 * entry, insertion order is deadline order: pending entries sit in one map by
 * start time, finished ones in another by finish time, and a sweep walks each
 * map from its oldest entry and stops at the first one still alive. Every
 * access sweeps, and so does one interval that `close()` stops.
 *
 * A pending entry reserves `maxResultBytes` of the byte bound when it is
 * admitted and shrinks to its real size when it finishes, so a burst of
 * completions can never overrun the bound and nothing alive is ever evicted:
 * when the store is full, new jobs are refused instead.
 *
 * @module
 */

/** Why a job failed, as `GET /result/:id` reports it. */
export interface JobError {
  /** HTTP status of the failure (the replica's, or the dispatcher's own). */
  status: number;
  /** Stable machine-readable code, e.g. `no_replica` or `pending_timeout`. */
  code: string;
  /** What went wrong, for a person. */
  message: string;
}

/**
 * What the store knows about one job. A result is kept as the JSON text the
 * model sent: its size is what the byte bound counts, and it goes back to the
 * client without being parsed and serialised again.
 */
export type JobView =
  | { id: string; status: "pending" }
  | { id: string; status: "done"; resultJson: string }
  | { id: string; status: "failed"; error: JobError };

/** Entries held now, by status, and the bytes they account for. */
export interface StoreCounts {
  pending: number;
  done: number;
  failed: number;
  /** Estimated bytes held, reservations of pending entries included. */
  bytes: number;
}

/** The outcome of {@linkcode ResultStore.open}. */
export type Admission =
  | { ok: true; id: string; signal: AbortSignal }
  | {
    ok: false;
    /** Which bound refused the job; `closed` once the store has shut down. */
    bound: "entries" | "bytes" | "closed";
    /** Value of that bound (entries or bytes; 0 when closed). */
    limit: number;
    /** Seconds until the store can probably take a job again. */
    retryAfterSeconds: number;
  };

/** Options of {@linkcode ResultStore}. */
export interface ResultStoreOptions {
  /** Most entries held, pending and finished together. @default 10000 */
  maxEntries?: number;
  /** Most bytes held, estimated. @default 67108864 (64 MiB) */
  maxBytes?: number;
  /** Largest result kept for one job, in bytes. @default 65536 */
  maxResultBytes?: number;
  /** How long a finished entry is kept after it finished, in ms. @default 300000 */
  ttlMs?: number;
  /** How long a job may stay pending before it fails with 504, in ms. @default 120000 */
  pendingTimeoutMs?: number;
  /** Period of the background sweep in ms; 0 sweeps only on access. @default 10000 */
  sweepIntervalMs?: number;
  /** Clock in ms, injectable for tests. @default Date.now */
  now?: () => number;
  /** Called after every change with the new counts, e.g. to set gauges. */
  onChange?: (counts: StoreCounts) => void;
}

/**
 * Bytes charged to every entry on top of its content: the id string, the map
 * slot and the small objects around it. An estimate, not a measurement.
 */
export const ENTRY_OVERHEAD_BYTES = 256;

interface PendingEntry {
  deadline: number;
  controller: AbortController;
  timedOut?: () => JobError;
}

interface FinishedEntry {
  expiresAt: number;
  bytes: number;
  view: JobView;
}

/** A bounded, expiring map from job id to the job's outcome. */
export class ResultStore {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly maxResultBytes: number;
  readonly ttlMs: number;
  readonly pendingTimeoutMs: number;
  #now: () => number;
  #onChange?: (counts: StoreCounts) => void;
  #pending = new Map<string, PendingEntry>();
  #finished = new Map<string, FinishedEntry>();
  #bytes = 0;
  #done = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /** @throws {RangeError} when an option is out of range */
  constructor(options: ResultStoreOptions = {}) {
    const {
      maxEntries = 10_000,
      maxBytes = 64 * 2 ** 20,
      maxResultBytes = 64 * 2 ** 10,
      ttlMs = 300_000,
      pendingTimeoutMs = 120_000,
      sweepIntervalMs = 10_000,
      now = Date.now,
    } = options;
    atLeast("maxEntries", maxEntries, 1);
    atLeast("maxResultBytes", maxResultBytes, 1);
    atLeast("maxBytes", maxBytes, maxResultBytes + ENTRY_OVERHEAD_BYTES);
    atLeast("ttlMs", ttlMs, 1);
    atLeast("pendingTimeoutMs", pendingTimeoutMs, 1);
    atLeast("sweepIntervalMs", sweepIntervalMs, 0);
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes;
    this.maxResultBytes = maxResultBytes;
    this.ttlMs = ttlMs;
    this.pendingTimeoutMs = pendingTimeoutMs;
    this.#now = now;
    this.#onChange = options.onChange;
    if (sweepIntervalMs > 0) this.#timer = setInterval(() => this.sweep(), sweepIntervalMs);
  }

  /** Entries held now, by status, and their bytes. */
  counts(): StoreCounts {
    const done = this.#done;
    const failed = this.#finished.size - done;
    return { pending: this.#pending.size, done, failed, bytes: this.#bytes };
  }

  /**
   * Says whether a new job would be admitted now, without admitting it, so a
   * caller can refuse before reading an upload it would have to drop.
   *
   * @returns undefined when there is room, else the refusal `open` would give
   */
  check(): Extract<Admission, { ok: false }> | undefined {
    this.sweep();
    if (this.#closed) return { ok: false, bound: "closed", limit: 0, retryAfterSeconds: 1 };
    if (this.#pending.size + this.#finished.size >= this.maxEntries) {
      // Only an expiry frees an entry, and entries expire in finish order.
      const first = this.#finished.values().next().value;
      const freeAt = first ? first.expiresAt : this.#now() + this.ttlMs;
      return this.#refusal("entries", this.maxEntries, freeAt);
    }
    if (this.#bytes + this.#reservation() > this.maxBytes) {
      // A pending job frees most of its reservation as soon as it finishes.
      const first = this.#finished.values().next().value;
      const freeAt = this.#pending.size > 0 || !first ? this.#now() : first.expiresAt;
      return this.#refusal("bytes", this.maxBytes, freeAt);
    }
    return undefined;
  }

  /**
   * Admits a new pending job under a fresh random id. The signal aborts when
   * the job's deadline passes or the store closes: the work should stop then,
   * since its outcome would no longer be kept.
   *
   * @param timedOut builds the job's error when its deadline passes, so it can
   *   say where the job was; only its message is used (always 504
   *   `pending_timeout`). @default a message that names only the limit
   */
  open(timedOut?: () => JobError): Admission {
    const refusal = this.check();
    if (refusal) return refusal;
    const id = crypto.randomUUID();
    const controller = new AbortController();
    const deadline = this.#now() + this.pendingTimeoutMs;
    this.#pending.set(id, { deadline, controller, timedOut });
    this.#bytes += this.#reservation();
    this.#changed();
    return { ok: true, id, signal: controller.signal };
  }

  /**
   * Records the model's answer for a pending job.
   *
   * @param resultJson the answer as JSON text
   * @param bytes the size of that answer as received
   * @returns false when the job is no longer pending (expired, failed, closed)
   * @throws {RangeError} when `bytes` exceeds `maxResultBytes`
   */
  complete(id: string, resultJson: string, bytes: number): boolean {
    if (!(bytes >= 0 && bytes <= this.maxResultBytes)) {
      throw new RangeError(
        `Cannot keep a result of ${bytes} bytes: the limit is ${this.maxResultBytes}; ` +
          "check the size before calling complete",
      );
    }
    return this.#finish(id, { resultJson, bytes });
  }

  /**
   * Records why a pending job failed.
   *
   * @returns false when the job is no longer pending
   */
  fail(id: string, error: JobError): boolean {
    // Codes and messages may come from a replica: keep them to a readable size.
    const { status, code, message } = error;
    return this.#finish(id, { status, code: code.slice(0, 100), message: message.slice(0, 1000) });
  }

  /** What is known about job `id`; undefined when unknown or expired. */
  get(id: string): JobView | undefined {
    this.sweep();
    if (this.#pending.has(id)) return { id, status: "pending" };
    return this.#finished.get(id)?.view;
  }

  /** Fails pending jobs past their deadline and drops finished entries past their TTL. */
  sweep(): void {
    const now = this.#now();
    let changed = false;
    for (const [id, entry] of this.#pending) {
      if (entry.deadline > now) break;
      const message = entry.timedOut?.().message ??
        `Cannot finish the job within --pending-timeout (${this.pendingTimeoutMs} ms); ` +
          "enqueue fewer jobs at once or add replicas, then enqueue the image again";
      this.#finish(id, { status: 504, code: "pending_timeout", message }, false);
      changed = true;
    }
    for (const [id, entry] of this.#finished) {
      if (entry.expiresAt > now) break;
      this.#finished.delete(id);
      this.#bytes -= entry.bytes;
      if (entry.view.status === "done") this.#done--;
      changed = true;
    }
    if (changed) this.#changed();
  }

  /**
   * Stops the background sweep and fails every pending job with 503, aborting
   * its signal. Finished entries stay readable; new jobs are refused.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const id of [...this.#pending.keys()]) {
      this.#finish(id, {
        status: 503,
        code: "shutting_down",
        message: "The dispatcher shut down before the job finished; submit the image again",
      }, false);
    }
    this.#changed();
  }

  #reservation(): number {
    return this.maxResultBytes + ENTRY_OVERHEAD_BYTES;
  }

  /** Moves a pending job to the finished map with its result or its error. */
  #finish(
    id: string,
    outcome: { resultJson: string; bytes: number } | JobError,
    notify = true,
  ): boolean {
    const pending = this.#pending.get(id);
    if (!pending) return false;
    this.#pending.delete(id);
    const [view, content]: [JobView, number] = "resultJson" in outcome
      ? [{ id, status: "done", resultJson: outcome.resultJson }, outcome.bytes]
      : [{ id, status: "failed", error: outcome }, outcome.code.length + outcome.message.length];
    const bytes = content + ENTRY_OVERHEAD_BYTES;
    this.#bytes += bytes - this.#reservation();
    this.#finished.set(id, { expiresAt: this.#now() + this.ttlMs, bytes, view });
    if (view.status === "done") this.#done++;
    // Aborted only now, so whoever reacts to the signal reads the final state.
    if (view.status === "failed") pending.controller.abort(new Error(view.error.message));
    if (notify) this.#changed();
    return true;
  }

  #refusal(bound: "entries" | "bytes", limit: number, freeAt: number) {
    const retryAfterSeconds = Math.max(1, Math.ceil((freeAt - this.#now()) / 1000));
    return { ok: false as const, bound, limit, retryAfterSeconds };
  }

  #changed(): void {
    this.#onChange?.(this.counts());
  }
}

function atLeast(name: string, value: number, min: number): void {
  if (Number.isFinite(value) && value >= min) return;
  throw new RangeError(`Cannot create the result store: ${name} must be >= ${min}, got ${value}`);
}

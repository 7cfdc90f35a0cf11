/**
 * The replicas the dispatcher knows and how busy each one is, with the choice
 * of where the next request goes: the replica with the fewest requests this
 * dispatcher has outstanding there, ties taken in turn, never more than
 * `maxInFlight` at once on one replica (the model's own admission limit, so a
 * request beyond it waits in the dispatcher's queue instead of being refused).
 *
 * Least outstanding alone sends everything to a replica that fails at once (a
 * refused connection or a 503 costs no time, so its count stays at 0). A replica
 * that just failed therefore sits out a short cool-down, unless every other
 * candidate is cooling too.
 *
 * A replica that keeps failing is ejected: after `ejectAfter` failures in a row
 * it gets no request for `ejectBaseMs`, doubled on each further ejection up to
 * `ejectMaxMs`. A success resets the failures in a row; the doubling is
 * forgiven only by a success at least `ejectMaxMs` after the last ejection
 * ended, so a replica that flaps (a success between bursts of failures) keeps
 * growing its time out instead of returning every 5 s. With the defaults (5 failures,
 * 5 s, 60 s) a replica that is down for good is tried 5 times, then sits out
 * 5 s, 10 s, 20 s, 40 s, 60 s, 60 s, ... Ejection never takes the last replica
 * out: the pool refuses to eject when no other replica would be left, and if
 * every known replica ends up ejected (others removed) it ignores ejection.
 *
 * @module
 */

/** One replica and the dispatcher's view of its load. */
export interface Replica {
  /** `host:port`, as the target file names it. */
  readonly address: string;
  /** Requests this dispatcher has sent there and not yet seen answered. */
  outstanding: number;
  /** Time (ms, pool clock) before which the replica is avoided after a failure. */
  coolUntil: number;
  /** Failures in a row since the last success or ejection. */
  failures: number;
  /** Ejections not yet forgiven; each one doubles the next. */
  ejections: number;
  /** Time (ms, pool clock) before which the replica gets no request at all. */
  ejectedUntil: number;
}

/** Options of {@linkcode ReplicaPool}. */
export interface ReplicaPoolOptions {
  /** How long a failed replica is avoided, in milliseconds. @default 1000 */
  cooldownMs?: number;
  /** Requests at once on one replica. @default Infinity */
  maxInFlight?: number;
  /** Failures in a row that eject a replica. @default 5 */
  ejectAfter?: number;
  /** Length of a first ejection, in milliseconds. @default 5000 */
  ejectBaseMs?: number;
  /** Longest ejection, in milliseconds. @default 60000 */
  ejectMaxMs?: number;
  /** Clock in milliseconds, injectable for tests. @default performance.now */
  now?: () => number;
}

/** What an {@linkcode ReplicaPool.update} changed. */
export interface PoolChange {
  added: string[];
  removed: string[];
}

/** The set of replicas and the balancing choice among them. */
export class ReplicaPool {
  #replicas: Replica[] = [];
  #cursor = 0;
  #cooldownMs: number;
  #maxInFlight: number;
  #ejectAfter: number;
  #ejectBaseMs: number;
  #ejectMaxMs: number;
  #now: () => number;

  constructor(options: ReplicaPoolOptions = {}) {
    const {
      cooldownMs = 1000,
      maxInFlight = Infinity,
      ejectAfter = 5,
      ejectBaseMs = 5000,
      ejectMaxMs = 60_000,
      now = () => performance.now(),
    } = options;
    if (!(cooldownMs >= 0)) {
      throw new RangeError(`Cannot create pool: expected cooldownMs >= 0, got ${cooldownMs}`);
    }
    if (!(maxInFlight >= 1)) {
      throw new RangeError(`Cannot create pool: expected maxInFlight >= 1, got ${maxInFlight}`);
    }
    if (!(ejectAfter >= 1) || !(ejectBaseMs >= 0) || !(ejectMaxMs >= ejectBaseMs)) {
      throw new RangeError(
        "Cannot create pool: expected ejectAfter >= 1 and 0 <= ejectBaseMs <= ejectMaxMs, got " +
          `${ejectAfter}, ${ejectBaseMs}, ${ejectMaxMs}`,
      );
    }
    this.#cooldownMs = cooldownMs;
    this.#maxInFlight = maxInFlight;
    this.#ejectAfter = ejectAfter;
    this.#ejectBaseMs = ejectBaseMs;
    this.#ejectMaxMs = ejectMaxMs;
    this.#now = now;
  }

  /** Number of known replicas. */
  get size(): number {
    return this.#replicas.length;
  }

  /** Addresses of the known replicas, sorted. */
  addresses(): string[] {
    return this.#replicas.map((replica) => replica.address);
  }

  /** The known replicas, for metrics; callers must not change them. */
  replicas(): readonly Readonly<Replica>[] {
    return this.#replicas;
  }

  /** Whether `address` is currently ejected. */
  isEjected(address: string): boolean {
    const replica = this.#replicas.find((candidate) => candidate.address === address);
    return replica !== undefined && this.#ejected(replica, this.#now());
  }

  /**
   * Replaces the replica set. Replicas that stay keep their counts; requests
   * still running on a removed replica finish normally and release it.
   */
  update(addresses: readonly string[]): PoolChange {
    const wanted = [...new Set(addresses)].sort();
    const known = new Map(this.#replicas.map((replica) => [replica.address, replica]));
    const added = wanted.filter((address) => !known.has(address));
    const removed = [...known.keys()].filter((address) => !wanted.includes(address));
    this.#replicas = wanted.map((address) =>
      known.get(address) ??
        { address, outstanding: 0, coolUntil: 0, failures: 0, ejections: 0, ejectedUntil: 0 }
    );
    if (this.#cursor >= this.#replicas.length) this.#cursor = 0;
    return { added, removed };
  }

  /**
   * Whether some replica outside `exclude` could take a request once it has
   * room: a retry waits for one, and gives up at once when there is none.
   */
  hasCandidate(exclude: ReadonlySet<string> = new Set()): boolean {
    const now = this.#now();
    return this.#replicas.some((replica) =>
      !exclude.has(replica.address) && !this.#ejected(replica, now)
    );
  }

  /**
   * Chooses a replica not in `exclude`, not ejected and below its in-flight
   * cap, and counts one more request on it. Among replicas not cooling down
   * (or, failing that, among all), the fewest outstanding wins; a tie goes to
   * the first one at or after the rotating cursor, so idle replicas take turns.
   *
   * @returns the replica, or undefined when none can take a request now
   */
  acquire(exclude: ReadonlySet<string> = new Set()): Replica | undefined {
    const count = this.#replicas.length;
    const now = this.#now();
    let best = -1;
    let bestWarm = false;
    for (let step = 0; step < count; step++) {
      const index = (this.#cursor + step) % count;
      const replica = this.#replicas[index];
      if (exclude.has(replica.address) || this.#ejected(replica, now)) continue;
      if (replica.outstanding >= this.#maxInFlight) continue;
      const warm = replica.coolUntil <= now;
      if (
        best < 0 || (warm && !bestWarm) ||
        (warm === bestWarm && replica.outstanding < this.#replicas[best].outstanding)
      ) {
        best = index;
        bestWarm = warm;
      }
    }
    if (best < 0) return undefined;
    this.#cursor = (best + 1) % count;
    const chosen = this.#replicas[best];
    chosen.outstanding++;
    return chosen;
  }

  /** Whether some replica, not ejected, is below its in-flight cap now. */
  hasFreeSlot(): boolean {
    const now = this.#now();
    return this.#replicas.some((replica) =>
      replica.outstanding < this.#maxInFlight && !this.#ejected(replica, now)
    );
  }

  /** Counts one request on `replica` as answered (or failed). */
  release(replica: Replica): void {
    replica.outstanding = Math.max(0, replica.outstanding - 1);
  }

  /** Keeps `replica` out of the choice for the cool-down, unless nothing else is left. */
  penalize(replica: Replica): void {
    replica.coolUntil = this.#now() + this.#cooldownMs;
  }

  /**
   * Records an answer from `replica`: its failures in a row start again, and
   * its ejections too once it has served `ejectMaxMs` since the last one ended.
   */
  recordSuccess(replica: Replica): void {
    replica.failures = 0;
    if (this.#now() - replica.ejectedUntil >= this.#ejectMaxMs) replica.ejections = 0;
  }

  /**
   * Records a failure of `replica` (cool-down included) and ejects it after
   * `ejectAfter` in a row, unless no other replica would be left to serve.
   *
   * @returns the ejection's length in milliseconds, or undefined when not ejected
   */
  recordFailure(replica: Replica): number | undefined {
    this.penalize(replica);
    replica.failures++;
    if (replica.failures < this.#ejectAfter) return undefined;
    const now = this.#now();
    const another = this.#replicas.some((other) => other !== replica && !this.#ejected(other, now));
    if (!another || !this.#replicas.includes(replica)) return undefined;
    const lengthMs = Math.min(this.#ejectMaxMs, this.#ejectBaseMs * 2 ** replica.ejections);
    replica.ejections++;
    replica.failures = 0;
    replica.ejectedUntil = now + lengthMs;
    return lengthMs;
  }

  // Ejection is void when every known replica is ejected: serving from a
  // replica that failed recently beats serving from none.
  #ejected(replica: Replica, now: number): boolean {
    if (replica.ejectedUntil <= now) return false;
    return !this.#replicas.every((other) => other.ejectedUntil > now);
  }
}

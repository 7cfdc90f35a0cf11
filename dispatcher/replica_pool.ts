/**
 * The replicas the dispatcher knows and how busy each one is, with the choice
 * of where the next request goes: the replica with the fewest requests this
 * dispatcher has outstanding there, ties taken in turn.
 *
 * Least outstanding alone sends everything to a replica that fails at once (a
 * refused connection or a 503 costs no time, so its count stays at 0). A replica
 * that just failed therefore sits out a short cool-down, unless every other
 * candidate is cooling too.
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
}

/** Options of {@linkcode ReplicaPool}. */
export interface ReplicaPoolOptions {
  /** How long a failed replica is avoided, in milliseconds. @default 1000 */
  cooldownMs?: number;
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
  #now: () => number;

  constructor(options: ReplicaPoolOptions = {}) {
    const { cooldownMs = 1000, now = () => performance.now() } = options;
    if (!(cooldownMs >= 0)) {
      throw new RangeError(`Cannot create pool: expected cooldownMs >= 0, got ${cooldownMs}`);
    }
    this.#cooldownMs = cooldownMs;
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
      known.get(address) ?? { address, outstanding: 0, coolUntil: 0 }
    );
    if (this.#cursor >= this.#replicas.length) this.#cursor = 0;
    return { added, removed };
  }

  /**
   * Chooses a replica not in `exclude` and counts one more request on it.
   * Among replicas not cooling down (or, failing that, among all), the fewest
   * outstanding wins; a tie goes to the first one at or after the rotating
   * cursor, so idle replicas take turns.
   *
   * @returns the replica, or undefined when every replica is excluded
   */
  acquire(exclude: ReadonlySet<string> = new Set()): Replica | undefined {
    const count = this.#replicas.length;
    const now = this.#now();
    let best = -1;
    let bestWarm = false;
    for (let step = 0; step < count; step++) {
      const index = (this.#cursor + step) % count;
      const replica = this.#replicas[index];
      if (exclude.has(replica.address)) continue;
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

  /** Counts one request on `replica` as answered (or failed). */
  release(replica: Replica): void {
    replica.outstanding = Math.max(0, replica.outstanding - 1);
  }

  /** Keeps `replica` out of the choice for the cool-down, unless nothing else is left. */
  penalize(replica: Replica): void {
    replica.coolUntil = this.#now() + this.#cooldownMs;
  }
}

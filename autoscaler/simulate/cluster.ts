/**
 * A model of the serving fleet in virtual time: replicas that take a while
 * to start, serve a few requests at once with a random service time, keep a
 * bounded queue, and drain when removed; a front door that sends each request
 * to the ready replica with the fewest outstanding ones and refuses it (503)
 * when even that one is full. It records what Prometheus would see, per
 * second, so the policies' own PromQL can be answered (`metric_source.ts`).
 *
 * @module
 */

import { seededUniform } from "@common/seeded.ts";

/** The fleet's characteristics. */
export interface ClusterModel {
  /** Mean service time of one image, in seconds. */
  serviceSeconds: number;
  /** Coefficient of variation of the service time (log-normal). */
  serviceCv: number;
  /** Requests a replica serves at once. */
  concurrency: number;
  /** Requests a replica holds beyond those it serves before refusing. */
  queue: number;
  /** Seconds from a replica's start to its readiness. */
  startupSeconds: number;
}

/** Defaults measured on the 2-core machine: a 1-thread replica serves about 27 images/s. */
export const DEFAULT_MODEL: ClusterModel = {
  serviceSeconds: 0.037,
  serviceCv: 0.3,
  concurrency: 1,
  queue: 20,
  startupSeconds: 5,
};

interface Replica {
  startedAt: number;
  readyAt: number;
  removedAt?: number;
  running: number;
  waiting: number[];
  /** Busy seconds per whole second of virtual time (index: second). */
  busy: Map<number, number>;
}

type Event = { time: number; kind: "finish"; replica: Replica; arrivedAt: number; started: number };

/** The fleet, its front door and what they recorded. */
export class Cluster {
  readonly model: ClusterModel;
  readonly #random: () => number;
  readonly #replicas: Replica[] = [];
  #events: Event[] = [];
  /** Per second: requests answered ok, refused, and their latencies. */
  readonly ok: number[] = [];
  readonly refused: number[] = [];
  readonly latencies: number[][] = [];
  /** Requests that arrived at the front door. */
  arrived = 0;
  /** Replica-seconds, counted from each start to each removal. */
  replicaSeconds = 0;

  constructor(model: ClusterModel, seed: number, initialReplicas: number) {
    this.model = model;
    this.#random = seededUniform(seed);
    for (let i = 0; i < initialReplicas; i++) this.#add(-model.startupSeconds);
  }

  /** Replicas serving traffic at `t`. */
  ready(t: number): number {
    return this.#live().filter((r) => r.readyAt <= t).length;
  }

  /** Replicas started and not removed (ready or starting). */
  get size(): number {
    return this.#live().length;
  }

  /** Average busy fraction per ready replica over (t - window, t], in cores. */
  cpuPerReplica(t: number, window: number): number {
    const ready = this.#live().filter((r) => r.readyAt <= t - window);
    const pool = ready.length > 0 ? ready : this.#live().filter((r) => r.readyAt <= t);
    if (pool.length === 0) return NaN;
    let total = 0;
    for (const replica of pool) {
      for (let s = Math.floor(t - window); s < Math.floor(t); s++) {
        total += replica.busy.get(s) ?? 0;
      }
    }
    return total / pool.length / window;
  }

  /** Starts or removes replicas to reach `count` at time `t`. */
  scaleTo(t: number, count: number): void {
    while (this.size < count) this.#add(t);
    while (this.size > count) {
      // The least loaded goes first; it finishes what it holds (drains).
      const live = this.#live().sort((a, b) =>
        (a.running + a.waiting.length) - (b.running + b.waiting.length)
      );
      live[0].removedAt = t;
    }
  }

  /** Runs the fleet through second `second`, with `arrivals` requests spread over it. */
  runSecond(second: number, arrivals: number): void {
    const times = Array.from({ length: arrivals }, () => second + this.#random()).sort((a, b) =>
      a - b
    );
    // A request finishing exactly on the boundary was counted already.
    this.ok[second] ??= 0;
    this.refused[second] ??= 0;
    this.latencies[second] ??= [];
    for (const time of times) {
      this.#finishUntil(time);
      this.#arrive(time);
    }
    this.#finishUntil(second + 1);
    for (const replica of this.#replicas) {
      const until = replica.removedAt ?? second + 1;
      this.replicaSeconds += Math.max(0, Math.min(1, until - Math.max(second, replica.startedAt)));
    }
  }

  #live(): Replica[] {
    return this.#replicas.filter((r) => r.removedAt === undefined);
  }

  #add(t: number): void {
    this.#replicas.push({
      startedAt: Math.max(t, 0),
      readyAt: t + this.model.startupSeconds,
      running: 0,
      waiting: [],
      busy: new Map(),
    });
  }

  #arrive(time: number): void {
    this.arrived++;
    const candidates = this.#live().filter((r) => r.readyAt <= time);
    const second = Math.floor(time);
    if (candidates.length === 0) {
      this.refused[second] = (this.refused[second] ?? 0) + 1;
      return;
    }
    let best = candidates[0];
    for (const r of candidates) {
      if (r.running + r.waiting.length < best.running + best.waiting.length) best = r;
    }
    if (best.running >= this.model.concurrency) {
      if (best.waiting.length >= this.model.queue) {
        this.refused[second] = (this.refused[second] ?? 0) + 1;
        return;
      }
      best.waiting.push(time);
      return;
    }
    this.#start(best, time, time);
  }

  #serviceTime(): number {
    const sigma2 = Math.log(1 + this.model.serviceCv ** 2);
    const mu = Math.log(this.model.serviceSeconds) - sigma2 / 2;
    // Box-Muller from two uniforms.
    const u = Math.max(this.#random(), 1e-12);
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.#random());
    return Math.exp(mu + Math.sqrt(sigma2) * normal);
  }

  #start(replica: Replica, arrivedAt: number, now: number): void {
    replica.running++;
    const duration = this.#serviceTime();
    this.#record(replica, now, now + duration);
    this.#push({ time: now + duration, kind: "finish", replica, arrivedAt, started: now });
  }

  // Busy time, split over the whole seconds it spans, for the CPU metric.
  #record(replica: Replica, from: number, to: number): void {
    for (let s = Math.floor(from); s < to; s++) {
      const part = Math.min(to, s + 1) - Math.max(from, s);
      replica.busy.set(s, (replica.busy.get(s) ?? 0) + part);
    }
  }

  #push(event: Event): void {
    // Few events are pending at once (at most replicas x concurrency): a
    // sorted insert is simpler than a heap and fast enough.
    let at = this.#events.length;
    while (at > 0 && this.#events[at - 1].time > event.time) at--;
    this.#events.splice(at, 0, event);
  }

  #finishUntil(time: number): void {
    while (this.#events.length > 0 && this.#events[0].time <= time) {
      const event = this.#events.shift()!;
      const second = Math.floor(event.time);
      this.ok[second] = (this.ok[second] ?? 0) + 1;
      (this.latencies[second] ??= []).push(event.time - event.arrivedAt);
      const replica = event.replica;
      replica.running--;
      const next = replica.waiting.shift();
      if (next !== undefined) this.#start(replica, next, event.time);
    }
  }
}

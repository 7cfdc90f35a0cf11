/**
 * What a run cost and how fast its fleet reacted, computed from the replica
 * count over time. The count is a step function: each change is an event
 * `{ t, replicas }` and holds until the next one.
 *
 * @module
 */

/** The replica count became `replicas` at `t` seconds after the load began. */
export interface ReplicaEvent {
  t: number;
  replicas: number;
}

/** The count in effect at `t`: that of the last event at or before it. */
export function replicasAt(events: readonly ReplicaEvent[], t: number): number {
  let replicas = events[0]?.replicas ?? 0;
  for (const event of events) {
    if (event.t > t) break;
    replicas = event.replicas;
  }
  return replicas;
}

/**
 * Replica-seconds from 0 to `horizon` seconds, the cost of the run: the area
 * under the step function, the last count held until `horizon`. Every run of
 * an experiment uses the same horizon, so a fleet that got back to its
 * minimum early is not credited with a shorter observation. Worked case:
 * 1 replica for 10 s, 3 for 5 s, then 1 until 20 s: 10 + 15 + 5 = 30.
 */
export function replicaSeconds(events: readonly ReplicaEvent[], horizon: number): number {
  let total = 0;
  for (let i = 0; i < events.length; i++) {
    const from = Math.max(events[i].t, 0);
    const to = Math.min(events[i + 1]?.t ?? horizon, horizon);
    if (to > from) total += events[i].replicas * (to - from);
  }
  return total;
}

/** The highest count seen; 0 without events. */
export function peakReplicas(events: readonly ReplicaEvent[]): number {
  return events.reduce((peak, event) => Math.max(peak, event.replicas), 0);
}

/**
 * Seconds from `start` (the load rising) until the fleet first grew beyond
 * the count it had at `start`; null when it never did.
 */
export function scaleUpSeconds(events: readonly ReplicaEvent[], start: number): number | null {
  const before = replicasAt(events, start);
  const grown = events.find((event) => event.t > start && event.replicas > before);
  return grown === undefined ? null : grown.t - start;
}

/**
 * Seconds from `end` (the load falling) until the fleet was back to the count
 * it had at `start`; 0 when it grew and shrank back before `end`, null when it
 * never grew after `start` (nothing to undo) or did not get back while it was
 * watched. The return is looked for after the growth, so a fleet that grows
 * only after `end` is not taken as already back.
 */
export function scaleDownSeconds(
  events: readonly ReplicaEvent[],
  window: { start: number; end: number },
): number | null {
  const { start, end } = window;
  const before = replicasAt(events, start);
  const up = scaleUpSeconds(events, start);
  if (up === null) return null;
  const back = events.find((event) => event.t > start + up && event.replicas <= before);
  return back === undefined ? null : Math.max(0, back.t - end);
}

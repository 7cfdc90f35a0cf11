import assert from "node:assert/strict";
import { cooldownTimeline } from "./cooldown.ts";

/** A clock that moves only when the code under test waits. */
function fakeClock(start: number) {
  let now = start;
  return {
    elapsed: () => now,
    wait: (ms: number) => {
      now += ms / 1000;
      return Promise.resolve();
    },
  };
}

Deno.test("cooldownTimeline() goes on to the horizon, the fleet at its minimum", async () => {
  const clock = fakeClock(30.4);
  const points = await cooldownTimeline({
    lastT: 30.4,
    horizonSeconds: 35,
    replicas: () => 1,
    ...clock,
  });
  assert.deepEqual(points.map((p) => p.t), [31, 32, 33, 34, 35]);
  assert.deepEqual(points.map((p) => p.seconds), [0.6, 1, 1, 1, 1]);
  assert.ok(points.every((p) => p.replicas === 1 && p.offered === 0 && p.ok === 0));
  assert.equal(clock.elapsed(), 35);
});

Deno.test("cooldownTimeline() gives runs that ended at different times the same end", async () => {
  const ends: number[] = [];
  for (const lastT of [20.02, 23.7, 29.999]) {
    const clock = fakeClock(lastT);
    const points = await cooldownTimeline({
      lastT,
      horizonSeconds: 30.5,
      replicas: () => 2,
      ...clock,
    });
    ends.push(points.at(-1)!.t);
    // t keeps rising after the load's last point.
    assert.ok(points[0].t > lastT);
    points.forEach((p, i) => i > 0 && assert.ok(p.t > points[i - 1].t));
  }
  assert.deepEqual(ends, [30.5, 30.5, 30.5]);
});

Deno.test("cooldownTimeline() samples the replicas at each point", async () => {
  const clock = fakeClock(10);
  const points = await cooldownTimeline({
    lastT: 10,
    horizonSeconds: 14,
    replicas: () => (clock.elapsed() < 12 ? 3 : 1),
    ...clock,
  });
  assert.deepEqual(points.map((p) => p.replicas), [3, 1, 1, 1]);
});

Deno.test("cooldownTimeline() adds nothing past the horizon and stops on abort", async () => {
  const late = fakeClock(41);
  assert.deepEqual(
    await cooldownTimeline({ lastT: 41, horizonSeconds: 40, replicas: () => 1, ...late }),
    [],
  );
  const stop = new AbortController();
  const clock = fakeClock(0);
  const points = await cooldownTimeline({
    lastT: 0,
    horizonSeconds: 60,
    replicas: () => {
      if (clock.elapsed() >= 3) stop.abort();
      return 1;
    },
    signal: stop.signal,
    ...clock,
  });
  assert.deepEqual(points.map((p) => p.t), [1, 2, 3]);
});

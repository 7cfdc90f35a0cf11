import assert from "node:assert/strict";
import { parseConfig, POLICIES } from "../config.ts";
import type { Recommendation } from "../policy.ts";
import { DEFAULT_MODEL } from "./cluster.ts";
import { simulate } from "./run.ts";
import { builtInTrace, csvTrace } from "./traces.ts";

const config = (policy: string) => parseConfig(["--policy", policy, "--max", "10"], {});

Deno.test("the simulator answers every query of every policy", async () => {
  for (const policy of POLICIES) {
    const unanswered: string[] = [];
    await simulate({
      config: config(policy),
      trace: builtInTrace("step"),
      model: DEFAULT_MODEL,
      sloSeconds: 0.2,
      onRecommendation: (r: Recommendation) => {
        if (!r.valid && r.cause === "query_error") unanswered.push(r.reason);
      },
    });
    assert.deepEqual(unanswered, [], policy);
  }
});

Deno.test("the rate policy follows a step up and back down in simulation", async () => {
  // 4 req/s, then 40 req/s for 5 minutes, then 4 again; 5 req/s per replica.
  const trace = csvTrace("step", "0,4\n120,40\n420,4\n900,4\n");
  const result = await simulate({
    config: config("rate"),
    trace,
    model: DEFAULT_MODEL,
    sloSeconds: 0.2,
  });
  // ceil(40 / 5) = 8, one more when Poisson arrivals run above 40/s for a window.
  const peak = Math.max(...result.replicas.slice(120, 420));
  assert.ok(peak === 8 || peak === 9, `peak ${peak}`);
  assert.equal(result.replicas.at(-1), 1);
  // Only the seconds before the new replicas are ready may refuse requests.
  assert.ok(result.refused > 0 && result.refused < 40 * 10, `${result.refused} refused`);
});

Deno.test("a simulation is repeatable with a seed and changes with another", async () => {
  const run = (seed: number) =>
    simulate({
      config: config("concurrency"),
      trace: builtInTrace("spike"),
      model: DEFAULT_MODEL,
      sloSeconds: 0.2,
      seed,
    });
  const [a, b, c] = await Promise.all([run(1), run(1), run(2)]);
  assert.deepEqual(a, b);
  assert.notEqual(a.requests, c.requests);
});

Deno.test("a fleet that starts slowly fails more of a spike than a fast one", async () => {
  const run = (startupSeconds: number) =>
    simulate({
      config: config("rate"),
      trace: builtInTrace("spike"),
      model: { ...DEFAULT_MODEL, startupSeconds },
      sloSeconds: 0.2,
    });
  const [fast, slow] = await Promise.all([run(1), run(30)]);
  assert.ok(slow.refused + slow.overSlo > fast.refused + fast.overSlo);
});

Deno.test("every policy brings a fleet of 10 back to 1 once the traffic is gone", async () => {
  const burst = csvTrace("burst", "0,250\n180,0\n2400,0\n");
  for (const policy of POLICIES) {
    const result = await simulate({
      config: config(policy),
      trace: burst,
      model: DEFAULT_MODEL,
      sloSeconds: 0.2,
    });
    assert.equal(Math.max(...result.replicas), 10, policy);
    assert.equal(result.replicas.at(-1), 1, policy);
  }
});

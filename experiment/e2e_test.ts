/**
 * `deno task experiment` end to end: two short policies with the real
 * system (Prometheus, dispatcher, autoscaler, replicas), then checks that the
 * comparison holds both and agrees with each run's own record.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { processesMentioning } from "@common/_test_processes.ts";
import { sharedImages } from "@common/shared_images.ts";
import type { Comparison } from "./compare.ts";
import { replicaSeconds } from "./fleet_metrics.ts";
import type { RunRecord } from "./run_policy.ts";

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);
const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

Deno.test({
  name: "experiment runs rate and hpa:0.9 and compares them consistently with their runs",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "experiment-e2e-" });
    const out = `${dir}/result`;
    // Small and short: 11 s of load at most 6/s, 5 s of cooldown, 2 replicas.
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        MAIN,
        "--policies",
        "rate:2,hpa:0.9",
        "--profile",
        "step:1:3,6:5,1:3",
        "--cooldown",
        "5",
        "--max",
        "2",
        "--images",
        `${sharedImages()}/imagenet-sample`,
        "--out",
        out,
      ],
      stdin: "null",
    }).output();
    const printed = new TextDecoder().decode(stdout);
    const why = `${printed}\n${new TextDecoder().decode(stderr)}`;
    assert.equal(code, 0, why);
    assert.match(printed, /== Run 1\/2: rate:2 ==/);
    assert.match(printed, /\[hpa:0\.9\] done: \d+\/\d+ ok; decisions logged: /);

    const comparison: Comparison = JSON.parse(await Deno.readTextFile(`${out}/compare.json`));
    assert.deepEqual(comparison.rows.map((row) => row.label), ["rate:2", "hpa:0.9"]);
    assert.deepEqual(comparison.peak, { start: 3, end: 8, rate: 6 });
    assert.equal(comparison.horizonSeconds, 16);
    for (const row of comparison.rows) {
      const run: RunRecord = JSON.parse(await Deno.readTextFile(`${out}/${row.file}`));
      const { summary, experiment } = run;
      assert.equal(experiment.label, row.label);
      assert.equal(row.sent, summary.sent);
      assert.ok(row.sent >= 35, `${row.label} sent only ${row.sent}`);
      assert.equal(row.ok, summary.ok);
      assert.deepEqual(row.errors, summary.errors);
      assert.equal(row.p95Ms, summary.latencyMs?.p95 ?? null);
      assert.equal(row.maxMs, summary.latencyMs?.max ?? null);

      // The cost is the area under the recorded replica history.
      const events = experiment.replicaEvents;
      assert.equal(events[0].replicas, 1, "every run starts from the minimum");
      const area = replicaSeconds(events, comparison.horizonSeconds);
      assert.ok(Math.abs(row.replicaSeconds - area) < 0.01, `${row.replicaSeconds} vs ${area}`);
      assert.ok(row.replicaSeconds >= comparison.horizonSeconds, "at least 1 replica all along");
      assert.equal(row.peakReplicas, Math.max(...events.map((event) => event.replicas)));
      const applied = experiment.decisions.applied;
      assert.equal(row.ups, applied.filter((d) => d.direction === "up").length);
      assert.equal(row.downs, applied.filter((d) => d.direction === "down").length);
      assert.ok(run.timeline.length >= 10, `${row.label}: ${run.timeline.length} seconds`);
      // Every run is watched to the same horizon, wherever its fleet was.
      assert.equal(run.timeline.at(-1)?.t, comparison.horizonSeconds, row.label);
    }
    const html = await Deno.readTextFile(`${out}/compare.html`);
    assert.match(html, /<tr data-policy="hpa:0\.9">/);
    // One page: the table, then the charts, titled with where replica counts came from.
    assert.ok(html.indexOf('<table id="comparison">') < html.indexOf('id="chart-replicas"'));
    assert.ok(html.includes('"title":"Replicas (target file)"'), "replicas chart title");
    assert.ok(!(await exists(`${out}/runs.html`)), "no second page");
    assert.deepEqual(processesMentioning(out), []);
    await Deno.remove(dir, { recursive: true });
  },
});

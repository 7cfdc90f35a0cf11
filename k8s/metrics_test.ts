import assert from "node:assert/strict";
import { join } from "node:path";
import * as promql from "@common/promql.ts";
import { JOBS } from "@common/metrics.ts";
import { startService } from "@common/service_process.ts";
import { waitForHttp } from "@common/wait_http.ts";
import { sharedImages } from "@common/shared_images.ts";
import { testModelPath } from "../model/_test_model.ts";
import { container, HAS_KUBECTL, render, ROOT } from "./_render.ts";

/** A series the PromQL reads: its name and the label values it requires. */
interface Selector {
  name: string;
  labels: Record<string, string>;
  /** The expression it came from, for messages. */
  from: string;
}

/** Sample arguments for the functions of promql.ts, by parameter name. */
const SAMPLE_ARGUMENTS: Record<string, unknown> = {
  window: "10s",
  quantile: 0.95,
  // A custom metric a user passes; it is theirs to provide, not ours.
  expression: "vector(1)",
  text: "10s",
};

// Words of PromQL that are not series names.
const KEYWORDS = new Set(
  ("sum avg min max count rate irate increase histogram_quantile vector and or unless on " +
    "ignoring by without group_left group_right bool offset topk bottomk abs clamp_min " +
    "clamp_max scalar time").split(" "),
);

// Series Prometheus makes itself, not the programs: `up` per scrape target.
const SYNTHETIC_SERIES = new Set(["up"]);

/** Every PromQL expression promql.ts builds, by function name. */
function expressions(): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(promql)) {
    if (typeof value !== "function") continue;
    const parameters = /^[^(]*\(([^)]*)\)/.exec(value.toString())?.[1]
      .split(",").map((p) => p.trim().replace(/[\s=:].*$/, "")).filter((p) => p) ?? [];
    const args = parameters.map((parameter) => {
      assert.ok(
        parameter in SAMPLE_ARGUMENTS,
        `promql.${name}(${parameter}): add a sample value for "${parameter}" to this test`,
      );
      return SAMPLE_ARGUMENTS[parameter];
    });
    const expression = (value as (...a: unknown[]) => unknown)(...args);
    if (typeof expression === "string") result[name] = expression;
  }
  return result;
}

/** The series an expression selects, with their equality label matchers. */
export function selectors(expression: string, from: string): Selector[] {
  const found: Selector[] = [];
  const text = expression
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const pattern = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?/g;
  for (const match of text.matchAll(pattern)) {
    const [, name, braces] = match;
    if (KEYWORDS.has(name) || /^\d/.test(name)) continue;
    // A word directly before "(" is a function call, not a series.
    if (text.slice(match.index! + match[0].length).trimStart().startsWith("(") && !braces) {
      continue;
    }
    const labels: Record<string, string> = {};
    for (const pair of (braces ?? "").matchAll(/(\w+)\s*=\s*"([^"]*)"/g)) {
      labels[pair[1]] = pair[2];
    }
    found.push({ name, labels, from });
  }
  return found;
}

/** Whether a /metrics text has a sample of the series with these label values. */
function hasSample(metrics: string, name: string, labels: Record<string, string>): boolean {
  return metrics.split("\n").some((line) => {
    if (line.startsWith("#")) return false;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s/.exec(line);
    if (!match || match[1] !== name) return false;
    return Object.entries(labels).every(([key, value]) =>
      (match[2] ?? "").includes(`${key}="${value}"`)
    );
  });
}

Deno.test("selectors() reads the series names and labels of PromQL", () => {
  assert.deepEqual(
    selectors('avg(rate(a_total{job="model"}[1m]) and on(instance) (up{x="y"} == 1))', "t")
      .map((s) => [s.name, s.labels]),
    [["a_total", { job: "model" }], ["up", { x: "y" }]],
  );
  assert.deepEqual(
    selectors('histogram_quantile(0.9, sum by (le) (rate(b_bucket{o="ok"}[5s])))', "t")
      .map((s) => s.name),
    ["b_bucket"],
  );
});

Deno.test({
  name: "every metric the PromQL reads is in /metrics of a running replica and dispatcher",
  // The memory check reads the model's limit from the manifest.
  ignore: !HAS_KUBECTL,
  async fn(t) {
    const wanted = Object.entries(expressions()).flatMap(([name, expression]) =>
      selectors(expression, `promql.${name}()`)
    ).filter((s) => !SYNTHETIC_SERIES.has(s.name));
    assert.ok(wanted.length >= 4, `expected the PromQL to read several series, got ${wanted}`);

    const dir = await Deno.makeTempDir({ prefix: "k8s_metrics_" });
    const model = await startService({
      name: "model replica",
      args: [
        "run",
        "--allow-all",
        join(ROOT, "model/main.ts"),
        "--port",
        "0",
        "--threads",
        "1",
        "--model",
        await testModelPath(),
        // Stops with this test even if the test process dies first.
        "--exit-with-parent",
      ],
      env: { MALLOC_ARENA_MAX: "2" },
    });
    let dispatcher;
    try {
      const targets = join(dir, "targets.json");
      await Deno.writeTextFile(targets, JSON.stringify([{ targets: [`127.0.0.1:${model.port}`] }]));
      dispatcher = await startService({
        name: "dispatcher",
        args: ["run", "--allow-all", join(ROOT, "dispatcher/main.ts"), "--port", "0"]
          .concat(["--targets", targets, "--exit-with-parent"]),
      });
      const front = `http://127.0.0.1:${dispatcher.port}`;
      const replica = `http://127.0.0.1:${model.port}`;

      await t.step("a classification goes through, so labelled series have samples", async () => {
        const image = await Deno.readFile(
          join(sharedImages(), "imagenet-sample/n01440764_tench.JPEG"),
        );
        // A loading replica refuses work; the dispatcher holds a request
        // until it has read the target file (x-deadline-ms).
        await waitForHttp(`${replica}/readyz`, { timeoutMs: 120_000 });
        const response = await fetch(`${front}/classify`, {
          method: "POST",
          headers: { "content-type": "image/jpeg", "x-deadline-ms": "60000" },
          body: image,
        });
        const text = await response.text();
        assert.equal(response.status, 200, text);
      });

      const scraped: Record<string, string> = {
        [JOBS.model]: await (await fetch(`${replica}/metrics`)).text(),
        [JOBS.dispatcher]: await (await fetch(`${front}/metrics`)).text(),
      };

      await t.step("each series is exported by the component its job label names", () => {
        const missing: string[] = [];
        for (const { name, labels, from } of wanted) {
          // job and instance are Prometheus's target labels, added at scrape time.
          const { job, instance: _, ...own } = labels;
          const sources = job ? [scraped[job]] : Object.values(scraped);
          assert.ok(sources[0] !== undefined, `${from}: no running component for job ${job}`);
          if (!sources.some((metrics) => hasSample(metrics, name, own))) {
            missing.push(`${name}${JSON.stringify(own)} (${from}, job ${job ?? "any"})`);
          }
        }
        assert.deepEqual(missing, [], "series the PromQL reads but no component exports");
      });

      await t.step(
        "the replica's memory fits the manifest's limit with room to spare",
        async () => {
          const { find } = await render("k8s");
          const limit = container(find("Deployment", "resnet-model")).resources.limits.memory;
          const limitBytes = Number(/^(\d+)Mi$/.exec(limit)?.[1]) * 1024 ** 2;
          assert.ok(limitBytes > 0, `read the limit "${limit}" as MiB`);
          const rss = /^process_resident_memory_bytes (\d+)/m.exec(scraped[JOBS.model])?.[1];
          assert.ok(rss, "the replica exports process_resident_memory_bytes");
          // Measured after one classification: peaks under load come on top.
          const share = Number(rss) / limitBytes;
          assert.ok(share < 0.75, `resident ${Number(rss) >> 20} MiB is ${share} of ${limit}`);
        },
      );
    } finally {
      await dispatcher?.stop();
      await model.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

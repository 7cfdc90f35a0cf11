import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { JOBS } from "@common/metrics.ts";
import { parseYaml } from "../k8s/_yaml_subset.ts";
import { type Doc, hasTool, run } from "../k8s/_render.ts";
import { localPrometheusConfig } from "./local_config.ts";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const HAS_PROMTOOL = hasTool("promtool", ["--version"]);
const NO_PROMTOOL = " (skipped: promtool is not on PATH; apt-get install prometheus)";

async function check(path: string): Promise<void> {
  const { ok, output } = await run("promtool", ["check", "config", path]);
  assert.ok(ok, `promtool check config ${path}:\n${output}`);
}

/** Whether this promtool knows Kubernetes service discovery (Debian's build leaves it out). */
async function knowsKubernetes(dir: string): Promise<boolean> {
  const probe = join(dir, "probe.yml");
  await Deno.writeTextFile(
    probe,
    "scrape_configs:\n  - job_name: probe\n    kubernetes_sd_configs:\n      - role: pod\n",
  );
  const { ok, output } = await run("promtool", ["check", "config", probe]);
  if (!ok && !output.includes("kubernetes_sd_configs not found")) {
    assert.fail(`promtool failed on a minimal configuration:\n${output}`);
  }
  return ok;
}

Deno.test({
  name: "the local configuration the demo generates passes promtool" +
    (HAS_PROMTOOL ? "" : NO_PROMTOOL),
  ignore: !HAS_PROMTOOL,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "prometheus_local_" });
    try {
      const targetsFile = join(dir, "targets.json");
      await Deno.writeTextFile(targetsFile, JSON.stringify([{ targets: ["127.0.0.1:8000"] }]));
      for (const autoscaler of [undefined, "127.0.0.1:9102"]) {
        await t.step(autoscaler ? "with the autoscaler" : "without the autoscaler", async () => {
          const text = localPrometheusConfig({
            targetsFile,
            dispatcher: "127.0.0.1:9000",
            autoscaler,
          });
          // The generated text quotes paths in flow sequences, beyond the YAML subset reader.
          const jobs = [...text.matchAll(/job_name: (\S+)/g)].map((m) => m[1]);
          const expected = [JOBS.model, JOBS.dispatcher, ...(autoscaler ? [JOBS.autoscaler] : [])];
          assert.deepEqual(jobs, expected);
          const path = join(dir, "prometheus.yml");
          await Deno.writeTextFile(path, text);
          await check(path);
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "the in-cluster configuration passes promtool" + (HAS_PROMTOOL ? "" : NO_PROMTOOL),
  ignore: !HAS_PROMTOOL,
  async fn(t) {
    const shipped = await Deno.readTextFile(join(HERE, "prometheus.yml"));
    const dir = await Deno.makeTempDir({ prefix: "prometheus_cluster_" });
    try {
      const kubernetes = await knowsKubernetes(dir);
      await t.step({
        name: "as shipped" + (kubernetes ? "" : " (skipped: this promtool was built " +
          "without Kubernetes service discovery, as Debian builds it; an upstream " +
          "promtool runs this step)"),
        ignore: !kubernetes,
        fn: () => check(join(HERE, "prometheus.yml")),
      });

      // Everything but the discovery blocks (globals, jobs, relabel rules) is
      // checked by any promtool: the same jobs with static targets.
      await t.step("with static targets in place of Kubernetes discovery", async () => {
        const config = parseYaml(shipped) as Doc;
        for (const job of config.scrape_configs) {
          assert.ok(job.kubernetes_sd_configs, `${job.job_name} uses Kubernetes discovery`);
          delete job.kubernetes_sd_configs;
          job.static_configs = [{ targets: ["127.0.0.1:1"] }];
        }
        const path = join(dir, "static.yml");
        // JSON is YAML, so the decoded configuration can be written back as it is.
        await Deno.writeTextFile(path, JSON.stringify(config, null, 2));
        await check(path);
      });

      await t.step(
        "promtool refuses a broken relabel rule, so the check above can fail",
        async () => {
          const config = parseYaml(shipped) as Doc;
          for (const job of config.scrape_configs) {
            delete job.kubernetes_sd_configs;
            job.static_configs = [{ targets: ["127.0.0.1:1"] }];
          }
          config.scrape_configs[0].relabel_configs[0].action = "kep";
          const path = join(dir, "broken.yml");
          await Deno.writeTextFile(path, JSON.stringify(config, null, 2));
          await assert.rejects(check(path), /unknown relabel action/);
        },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { JOBS } from "@common/metrics.ts";
import { DEFAULTS as MODEL_DEFAULTS } from "../model/config.ts";
import { parseYaml, parseYamlDocuments } from "./_yaml_subset.ts";

const K8S = fileURLToPath(new URL(".", import.meta.url));

// Loose shapes: the manifests are checked field by field below.
// deno-lint-ignore no-explicit-any
type Doc = Record<string, any>;

function hasTool(name: string, args: string[]): boolean {
  try {
    return new Deno.Command(name, { args, stdout: "null", stderr: "null" }).outputSync().success;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

const HAS_KUBECTL = hasTool("kubectl", ["version", "--client"]);
const HAS_PROMTOOL = hasTool("promtool", ["--version"]);
const NO_KUBECTL = " (skipped: kubectl is not on PATH; install the kubectl client to run it)";

async function run(command: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  const result = await new Deno.Command(command, { args, stdin: "null" }).output();
  const decoder = new TextDecoder();
  return {
    ok: result.success,
    output: decoder.decode(result.stdout) + decoder.decode(result.stderr),
  };
}

/** `kubectl kustomize k8s`, decoded, with lookups the checks share. */
async function render() {
  const { ok, output } = await run("kubectl", ["kustomize", K8S]);
  assert.ok(ok, `kubectl kustomize ${K8S} failed:\n${output}`);
  const docs = parseYamlDocuments(output) as Doc[];
  const kustomization = parseYaml(
    await Deno.readTextFile(join(K8S, "kustomization.yaml")),
  ) as Doc;
  const find = (kind: string, name: string): Doc => {
    const doc = docs.find((d) => d.kind === kind && d.metadata.name === name);
    assert.ok(doc, `expected a ${kind} named ${name}; have ${names(docs)}`);
    return doc;
  };
  const configMap = docs.find((d) => d.kind === "ConfigMap" && d.data?.["prometheus.yml"]);
  assert.ok(configMap, "expected a ConfigMap holding prometheus.yml");
  return {
    docs,
    namespace: kustomization.namespace as string,
    find,
    configMap,
    prometheusYml: configMap.data["prometheus.yml"] as string,
  };
}

function names(docs: Doc[]): string {
  return docs.map((d) => `${d.kind}/${d.metadata.name}`).join(", ");
}

/** `["--a", "x", "--b=y"]` as `{ "--a": "x", "--b": "y" }`. */
function flags(args: string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s);
    result[flag] = inline ?? args[++i];
  }
  return result;
}

function container(deployment: Doc): Doc {
  const containers = deployment.spec.template.spec.containers;
  assert.equal(containers.length, 1, `${deployment.metadata.name} runs one container`);
  return containers[0];
}

function podLabels(deployment: Doc): Record<string, string> {
  return deployment.spec.template.metadata.labels;
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

function rulesOf(role: Doc): { group: string; resource: string; verbs: string[] }[] {
  return role.rules.flatMap((rule: Doc) =>
    rule.apiGroups.flatMap((group: string) =>
      rule.resources.map((resource: string) => ({ group, resource, verbs: rule.verbs }))
    )
  );
}

function verbsFor(role: Doc, group: string, resource: string): string[] {
  return rulesOf(role)
    .filter((rule) => rule.group === group && rule.resource === resource)
    .flatMap((rule) => rule.verbs);
}

Deno.test({
  name: "kubectl kustomize k8s renders manifests that agree with each other" +
    (HAS_KUBECTL ? "" : NO_KUBECTL),
  ignore: !HAS_KUBECTL,
  async fn(t) {
    const { docs, namespace, find, configMap, prometheusYml } = await render();
    const deployments = docs.filter((d) => d.kind === "Deployment");
    const model = find("Deployment", "resnet-model");

    await t.step("every object is in the kustomization's namespace", () => {
      assert.equal(namespace, "resnet");
      assert.equal(find("Namespace", namespace).metadata.namespace, undefined);
      for (const doc of docs.filter((d) => d.kind !== "Namespace")) {
        assert.equal(doc.metadata.namespace, namespace, `${doc.kind}/${doc.metadata.name}`);
        assert.ok(!doc.kind.startsWith("Cluster"), `${doc.kind} reaches beyond the namespace`);
      }
      for (const binding of docs.filter((d) => d.kind === "RoleBinding")) {
        for (const subject of binding.subjects) assert.equal(subject.namespace, namespace);
      }
    });

    await t.step("the autoscaler's arguments name the model Deployment and Prometheus", () => {
      const args = flags(container(find("Deployment", "resnet-autoscaler")).args);
      assert.equal(args["--scaler"], "kubernetes");
      assert.equal(find("Deployment", args["--deployment"]), model);
      assert.equal(args["--namespace"], namespace);

      const prometheusUrl = new URL(args["--prometheus"]);
      const service = find("Service", prometheusUrl.hostname);
      const port = service.spec.ports.find((p: Doc) => p.port === Number(prometheusUrl.port));
      assert.ok(port, `Service ${service.metadata.name} has no port ${prometheusUrl.port}`);
      assert.ok(selects(service.spec.selector, podLabels(find("Deployment", "prometheus"))));
      assert.equal(args["--host"], "0.0.0.0", "Prometheus scrapes the autoscaler on its pod IP");
    });

    await t.step("the dispatcher discovers the model Service and serves on 9000", () => {
      const dispatcher = find("Deployment", "resnet-dispatcher");
      const args = flags(container(dispatcher).args);
      assert.equal(args["--discovery"], "kubernetes");
      const modelService = find("Service", args["--service"]);
      assert.ok(selects(modelService.spec.selector, podLabels(model)));
      assert.equal(args["--port"], "9000");
      assert.equal(args["--host"], "0.0.0.0");
      const front = find("Service", "resnet-dispatcher");
      assert.deepEqual(front.spec.ports.map((p: Doc) => p.port), [9000]);
    });

    await t.step("each Role grants its component what it needs, bound to its account", () => {
      const needs: [string, string, string, string[]][] = [
        ["resnet-autoscaler", "apps", "deployments/scale", ["get", "patch"]],
        ["resnet-autoscaler", "apps", "deployments", ["get"]],
        ["resnet-dispatcher", "discovery.k8s.io", "endpointslices", ["list", "watch"]],
        ["prometheus", "", "pods", ["list", "watch"]],
        ["prometheus", "", "endpoints", ["list", "watch"]],
      ];
      for (const [name, group, resource, verbs] of needs) {
        const granted = verbsFor(find("Role", name), group, resource);
        for (const verb of verbs) {
          assert.ok(granted.includes(verb), `Role ${name} lacks ${verb} on ${resource}`);
        }
      }
      for (const role of docs.filter((d) => d.kind === "Role")) {
        for (const rule of rulesOf(role)) {
          assert.ok(!rule.verbs.includes("*") && rule.resource !== "*", role.metadata.name);
        }
      }
      for (const name of ["resnet-autoscaler", "resnet-dispatcher", "prometheus"]) {
        const binding = find("RoleBinding", name);
        assert.deepEqual(binding.roleRef, {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "Role",
          name,
        });
        const account = find("Deployment", name).spec.template.spec.serviceAccountName;
        find("ServiceAccount", account);
        assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: account, namespace }]);
      }
      assert.equal(model.spec.template.spec.serviceAccountName, undefined);
    });

    await t.step("every Service selects one Deployment's pods on a named port", () => {
      for (const service of docs.filter((d) => d.kind === "Service")) {
        const matching = deployments.filter((d) => selects(service.spec.selector, podLabels(d)));
        assert.equal(matching.length, 1, `Service ${service.metadata.name} selects one`);
        const portNames = container(matching[0]).ports.map((p: Doc) => p.name);
        for (const port of service.spec.ports) assert.ok(portNames.includes(port.targetPort));
      }
    });

    await t.step("the model replica drains before its grace period ends", () => {
      const pod = model.spec.template.spec;
      const main = container(model);
      assert.equal(model.spec.replicas, undefined, "the autoscaler owns the replica count");
      assert.equal(podLabels(model)["app.kubernetes.io/name"], "resnet-model");
      assert.equal(main.image, "resnet-model:latest");
      assert.deepEqual(flags(main.args), { "--host": "0.0.0.0", "--port": "8000" });
      assert.deepEqual(main.ports, [{ containerPort: 8000, name: "http" }]);
      assert.ok(!(main.env ?? []).some((e: Doc) => e.name === "ORT_THREADS"));
      assert.deepEqual(main.resources, {
        requests: { cpu: "1" },
        limits: { cpu: "2", memory: "512Mi" },
      });
      assert.deepEqual(main.readinessProbe.httpGet, { path: "/readyz", port: "http" });
      assert.deepEqual(main.livenessProbe.httpGet, { path: "/healthz", port: "http" });

      const preStop = main.lifecycle.preStop.sleep.seconds;
      const drain = Number(flags(main.args)["--drain-timeout"] ?? MODEL_DEFAULTS.drainTimeout);
      assert.equal(preStop, 5);
      assert.equal(pod.terminationGracePeriodSeconds, 40);
      assert.ok(
        preStop + drain < pod.terminationGracePeriodSeconds,
        `preStop ${preStop} s + drain ${drain} s must end within the grace period`,
      );
    });

    await t.step("Prometheus reads the generated ConfigMap", () => {
      const prometheus = find("Deployment", "prometheus");
      const volume = prometheus.spec.template.spec.volumes.find((v: Doc) => v.configMap);
      assert.equal(volume.configMap.name, configMap.metadata.name);
      const mount = container(prometheus).volumeMounts.find((m: Doc) => m.name === volume.name);
      const file = flags(container(prometheus).args)["--config.file"];
      assert.equal(file, `${mount.mountPath}/prometheus.yml`);
    });

    await t.step("the scrape jobs find each component's pods every second", () => {
      const config = parseYaml(prometheusYml) as Doc;
      assert.equal(config.global.scrape_interval, "1s");
      const jobs: Doc[] = config.scrape_configs;
      assert.deepEqual(jobs.map((job) => job.job_name), Object.values(JOBS));

      const deploymentOf = { model: "resnet-model", dispatcher: "resnet-dispatcher" } as Doc;
      deploymentOf.autoscaler = "resnet-autoscaler";
      for (const job of jobs) {
        assert.deepEqual(job.kubernetes_sd_configs, [{
          role: "pod",
          namespaces: { names: [namespace] },
        }]);
        const deployment = find("Deployment", deploymentOf[job.job_name]);
        const keepsOn = (label: string) =>
          job.relabel_configs.find((r: Doc) =>
            r.action === "keep" && r.source_labels.join() === label
          )?.regex;
        const name = podLabels(deployment)["app.kubernetes.io/name"];
        assert.equal(keepsOn("__meta_kubernetes_pod_label_app_kubernetes_io_name"), name);
        const port = keepsOn("__meta_kubernetes_pod_container_port_name");
        assert.ok(container(deployment).ports.some((p: Doc) => p.name === port), job.job_name);
        // up{job="model"} is what counts replicas: nothing may rename the job.
        assert.ok(!job.relabel_configs.some((r: Doc) => r.target_label === "job"));
      }
    });
  },
});

/** Whether this promtool was built with Kubernetes service discovery (Debian's is not). */
async function promtoolKnowsKubernetes(dir: string): Promise<boolean> {
  const probe = join(dir, "probe.yml");
  await Deno.writeTextFile(
    probe,
    "scrape_configs:\n  - job_name: probe\n    kubernetes_sd_configs:\n      - role: pod\n",
  );
  const { ok, output } = await run("promtool", ["check", "config", probe]);
  if (!ok && !output.includes("field kubernetes_sd_configs not found")) {
    assert.fail(`promtool failed on a minimal configuration:\n${output}`);
  }
  return ok;
}

Deno.test({
  name: "the Prometheus configuration in the ConfigMap passes promtool check config" +
    (!HAS_KUBECTL ? NO_KUBECTL : HAS_PROMTOOL ? "" : " (skipped: promtool is not on PATH)"),
  ignore: !HAS_KUBECTL || !HAS_PROMTOOL,
  async fn(t) {
    const { prometheusYml } = await render();
    const dir = await Deno.makeTempDir({ prefix: "k8s_promtool_" });
    try {
      const knowsKubernetes = await promtoolKnowsKubernetes(dir);

      await t.step({
        name: "as shipped" + (knowsKubernetes ? "" : " (skipped: this promtool was built " +
          "without Kubernetes service discovery, as Debian builds it; use an upstream " +
          "promtool for this check)"),
        ignore: !knowsKubernetes,
        async fn() {
          const path = join(dir, "prometheus.yml");
          await Deno.writeTextFile(path, prometheusYml);
          const { ok, output } = await run("promtool", ["check", "config", path]);
          assert.ok(ok, output);
        },
      });

      // Everything but the discovery blocks (globals, jobs, relabel rules) is
      // still checked by any promtool: the same jobs with static targets.
      await t.step("with static targets in place of Kubernetes discovery", async () => {
        const config = parseYaml(prometheusYml) as Doc;
        for (const job of config.scrape_configs) {
          assert.ok(job.kubernetes_sd_configs, `${job.job_name} uses Kubernetes discovery`);
          delete job.kubernetes_sd_configs;
          job.static_configs = [{ targets: ["127.0.0.1:1"] }];
        }
        const path = join(dir, "static.yml");
        // JSON is YAML, so the decoded configuration can be written back as is.
        await Deno.writeTextFile(path, JSON.stringify(config, null, 2));
        const { ok, output } = await run("promtool", ["check", "config", path]);
        assert.ok(ok, output);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

import assert from "node:assert/strict";
import { JOBS } from "@common/metrics.ts";
import {
  DEFAULTS as AUTOSCALER_DEFAULTS,
  parseConfig as parseAutoscalerConfig,
} from "../autoscaler/config.ts";
import {
  DEFAULTS as DISPATCHER_DEFAULTS,
  parseConfig as parseDispatcherConfig,
  USAGE as DISPATCHER_USAGE,
} from "../dispatcher/config.ts";
import { DEFAULTS as MODEL_DEFAULTS, parseConfig as parseModelConfig } from "../model/config.ts";
import {
  allows,
  container,
  type Doc,
  envOf,
  expandArgs,
  flags,
  HAS_KUBECTL,
  kustomizations,
  NO_KUBECTL,
  podLabels,
  render,
  type Rendered,
  selects,
} from "./_render.ts";
import { parseYaml } from "./_yaml_subset.ts";

const NAMESPACE = "resnet";
const COMMON_LABELS = {
  app: "resnet",
  "app.kubernetes.io/instance": "resnet",
  "app.kubernetes.io/part-of": "resnet",
};
const MODEL = "resnet-model";
const DISPATCHER = "resnet-dispatcher";
const AUTOSCALER = "resnet-autoscaler";

/** CPU quantity ("1", "500m") in cores. */
function cores(quantity: string): number {
  return quantity.endsWith("m") ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}

/** Every container of a pod template, init containers included. */
function allContainers(deployment: Doc): Doc[] {
  const pod = deployment.spec.template.spec;
  return [...(pod.initContainers ?? []), ...pod.containers];
}

/** The mount of a container that holds `path`, the longest prefix. */
function mountFor(main: Doc, path: string): Doc | undefined {
  return (main.volumeMounts ?? [])
    .filter((m: Doc) => path === m.mountPath || path.startsWith(`${m.mountPath}/`))
    .sort((a: Doc, b: Doc) => b.mountPath.length - a.mountPath.length)[0];
}

/** Checks that hold for every kustomization a user may apply. */
async function checkCommon(t: Deno.TestContext, rendered: Rendered): Promise<void> {
  const { docs, find, maybe } = rendered;
  const deployments = docs.filter((d) => d.kind === "Deployment");
  const model = find("Deployment", MODEL);

  await t.step("every object is in one namespace and carries the common labels", () => {
    const labels = find("Namespace", NAMESPACE).metadata.labels;
    // The API server then refuses any pod of ours that loses its hardening.
    assert.equal(labels["pod-security.kubernetes.io/enforce"], "restricted");
    for (const doc of docs) {
      const name = `${doc.kind}/${doc.metadata.name}`;
      assert.ok(!doc.kind.startsWith("Cluster"), `${name} reaches beyond the namespace`);
      if (doc.kind !== "Namespace") assert.equal(doc.metadata.namespace, NAMESPACE, name);
      for (const [key, value] of Object.entries(COMMON_LABELS)) {
        assert.equal(doc.metadata.labels?.[key], value, `${name} label ${key}`);
      }
    }
    for (const deployment of deployments) {
      const labels = podLabels(deployment);
      for (const [key, value] of Object.entries(COMMON_LABELS)) {
        assert.equal(labels[key], value, `pods of ${deployment.metadata.name}: label ${key}`);
      }
      for (const key of ["name", "component", "version"]) {
        assert.ok(labels[`app.kubernetes.io/${key}`], `${deployment.metadata.name}: ${key}`);
      }
      const tag = container(deployment).image.split(":").at(-1);
      assert.equal(labels["app.kubernetes.io/version"], tag, "version label = image tag");
    }
  });

  await t.step("each Deployment's selector picks its own pods and no other's", () => {
    for (const deployment of deployments) {
      const selector = deployment.spec.selector.matchLabels;
      const picked = deployments.filter((d) => selects(selector, podLabels(d)));
      assert.deepEqual(picked.map((d) => d.metadata.name), [deployment.metadata.name]);
    }
  });

  await t.step("each Service selects one Deployment, targetPort = containerPort", () => {
    for (const service of docs.filter((d) => d.kind === "Service")) {
      const picked = deployments.filter((d) => selects(service.spec.selector, podLabels(d)));
      assert.equal(picked.length, 1, `Service ${service.metadata.name} selects one Deployment`);
      const ports = container(picked[0]).ports;
      for (const port of service.spec.ports) {
        const target = ports.find((p: Doc) =>
          p.name === port.targetPort || p.containerPort === port.targetPort
        );
        assert.ok(target, `Service ${service.metadata.name}: no container port ${port.targetPort}`);
        // Same number outside and inside: one port to remember per component.
        assert.equal(port.port, target.containerPort, service.metadata.name);
      }
    }
  });

  await t.step("the ports are the ones the programs listen on by default", () => {
    const modelPort = container(model).ports[0].containerPort;
    assert.equal(modelPort, Number(MODEL_DEFAULTS.port));
    const dispatcher = maybe("Deployment", DISPATCHER)!;
    assert.equal(container(dispatcher).ports[0].containerPort, Number(DISPATCHER_DEFAULTS.port));
    const autoscaler = maybe("Deployment", AUTOSCALER);
    if (autoscaler) {
      assert.equal(container(autoscaler).ports[0].containerPort, Number(AUTOSCALER_DEFAULTS.port));
    }
  });

  await t.step("every pod runs hardened: non-root, read-only, no capabilities", () => {
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec;
      const name = deployment.metadata.name;
      assert.equal(pod.securityContext.runAsNonRoot, true, name);
      assert.ok(pod.securityContext.runAsUser > 0, `${name}: a numeric non-root uid`);
      assert.deepEqual(pod.securityContext.seccompProfile, { type: "RuntimeDefault" }, name);
      for (const main of allContainers(deployment)) {
        const where = `${name}/${main.name}`;
        assert.equal(main.securityContext.allowPrivilegeEscalation, false, where);
        assert.equal(main.securityContext.readOnlyRootFilesystem, true, where);
        assert.deepEqual(main.securityContext.capabilities, { drop: ["ALL"] }, where);
        assert.ok(main.resources?.limits?.memory, `${where}: a memory limit`);
        assert.ok(main.resources?.requests?.cpu, `${where}: a CPU request`);
        assert.ok(main.image.includes(":") && !main.image.endsWith(":latest"), where);
        const mount = mountFor(main, "/tmp");
        if (main.image.startsWith("resnet-")) {
          // A compiled Deno binary unpacks its native addons under /tmp.
          const volume = pod.volumes.find((v: Doc) => v.name === mount?.name);
          assert.ok(volume?.emptyDir, `${where}: /tmp must be a writable emptyDir`);
        }
      }
    }
  });

  await t.step("the model replica agrees with its CPU, memory and drain settings", () => {
    const pod = model.spec.template.spec;
    const main = container(model);
    assert.equal(model.spec.replicas, undefined, "the autoscaler owns the replica count");
    assert.equal(pod.automountServiceAccountToken, false, "a replica needs no API token");
    const config = parseModelConfig(expandArgs(main, NAMESPACE), envOf(main), () => false);
    assert.equal(config.host, "0.0.0.0", "probes and the dispatcher come in on the pod IP");

    const { requests, limits } = main.resources;
    assert.ok(config.threads, "set the thread count (ORT_THREADS) so it matches the CPU limit");
    assert.equal(cores(limits.cpu), config.threads, "one CPU of the limit per ORT thread");
    assert.equal(requests.cpu, limits.cpu, "requests = limits: the threads get their CPUs");
    assert.equal(requests.memory, limits.memory);

    assert.deepEqual(main.readinessProbe.httpGet, { path: "/readyz", port: "http" });
    assert.deepEqual(main.livenessProbe.httpGet, { path: "/healthz", port: "http" });
    const preStop = main.lifecycle.preStop.sleep.seconds;
    const drainSeconds = config.drainTimeoutMs / 1000;
    const probeLag = main.readinessProbe.periodSeconds * main.readinessProbe.failureThreshold;
    assert.ok(preStop >= probeLag, `preStop ${preStop} s covers readiness lag ${probeLag} s`);
    assert.ok(
      preStop + drainSeconds < pod.terminationGracePeriodSeconds,
      `preStop ${preStop} s + drain ${drainSeconds} s must end within the grace period ` +
        `(${pod.terminationGracePeriodSeconds} s)`,
    );
  });

  await t.step("an init container puts the weights where the model reads them", () => {
    const pod = model.spec.template.spec;
    const main = container(model);
    const modelPath = parseModelConfig(main.args, envOf(main), () => false).modelPath;
    const served = mountFor(main, modelPath);
    assert.ok(served, `${modelPath} must be on a volume`);
    assert.equal(served.readOnly, true, "the replica only reads the weights");
    assert.ok(pod.volumes.find((v: Doc) => v.name === served.name).emptyDir);

    assert.equal(pod.initContainers.length, 1);
    const [init] = pod.initContainers;
    assert.equal(init.image, main.image, "the fetch tool ships in the model image");
    assert.equal(flags(init.command.slice(1))["--out"], modelPath);
    const written = mountFor(init, modelPath);
    assert.equal(written?.name, served.name);
    assert.ok(!written?.readOnly, "the init container writes the weights");
    assert.match(init.command[0], /^resnet-model-(fetch|synthetic)$/);
  });

  await t.step("the dispatcher discovers the model Service's ready endpoints", () => {
    const dispatcher = find("Deployment", DISPATCHER);
    const main = container(dispatcher);
    const args = flags(expandArgs(main, NAMESPACE));
    assert.equal(args["--discovery"], "kubernetes");
    assert.equal(args["--namespace"], NAMESPACE, "$(POD_NAMESPACE) from the downward API");
    assert.equal(envOf(main).POD_NAMESPACE, "fieldRef:metadata.namespace");
    const modelService = find("Service", args["--service"]);
    assert.ok(selects(modelService.spec.selector, podLabels(model)));
    assert.ok(modelService.spec.ports.some((p: Doc) => p.name === args["--port-name"]));
    assert.equal(args["--host"], "0.0.0.0");
    assert.equal(args["--port"], undefined, "the default port, as the Service expects");
    assert.equal(find("Service", DISPATCHER).spec.type, "NodePort");
  });

  await t.step({
    name: "the dispatcher accepts its arguments" +
      (DISPATCHER_USAGE.includes("--discovery")
        ? ""
        : " (skipped: dispatcher/config.ts has no --discovery flag yet)"),
    ignore: !DISPATCHER_USAGE.includes("--discovery"),
    fn() {
      const main = container(find("Deployment", DISPATCHER));
      const config = parseDispatcherConfig(expandArgs(main, NAMESPACE), envOf(main));
      assert.equal(config.port, container(find("Deployment", DISPATCHER)).ports[0].containerPort);
    },
  });

  await t.step("each RoleBinding gives its Role to the account its pods run as", () => {
    for (const binding of docs.filter((d) => d.kind === "RoleBinding")) {
      const name = binding.metadata.name;
      find("Role", binding.roleRef.name);
      assert.equal(binding.roleRef.apiGroup, "rbac.authorization.k8s.io");
      for (const subject of binding.subjects) {
        assert.equal(subject.kind, "ServiceAccount", name);
        assert.equal(subject.namespace, NAMESPACE, name);
        find("ServiceAccount", subject.name);
      }
    }
    for (const deployment of deployments) {
      const account = deployment.spec.template.spec.serviceAccountName;
      if (account === undefined) continue;
      const bound = docs.some((d) =>
        d.kind === "RoleBinding" && d.subjects.some((s: Doc) => s.name === account)
      );
      assert.ok(bound, `${deployment.metadata.name} runs as ${account}, which has no Role`);
    }
    const prometheus = find("Role", "prometheus");
    for (const verb of ["list", "watch"]) {
      assert.ok(allows(prometheus, { group: "", resource: "pods", verb }), verb);
    }
  });

  await t.step("no RBAC outlives the Deployment it was made for", () => {
    // Least privilege: an overlay that drops a Deployment (the HPA ones drop
    // the autoscaler) must drop its account, Role and RoleBinding as well.
    const runAs = new Set(deployments.map((d) => d.spec.template.spec.serviceAccountName));
    for (const account of docs.filter((d) => d.kind === "ServiceAccount")) {
      const name = account.metadata.name;
      assert.ok(runAs.has(name), `ServiceAccount ${name} is left, but no Deployment runs as it`);
    }
    const bindings = docs.filter((d) => d.kind === "RoleBinding");
    for (const binding of bindings) {
      const name = binding.metadata.name;
      for (const subject of binding.subjects) {
        assert.ok(runAs.has(subject.name), `RoleBinding ${name} grants to unused ${subject.name}`);
      }
    }
    for (const role of docs.filter((d) => d.kind === "Role")) {
      const name = role.metadata.name;
      const bound = bindings.some((b) => b.roleRef.kind === "Role" && b.roleRef.name === name);
      assert.ok(bound, `Role ${name} is left, but no RoleBinding gives it to anyone`);
    }
  });

  await t.step("Prometheus reads the generated ConfigMap", () => {
    const prometheus = find("Deployment", "prometheus");
    const configMap = docs.find((d) => d.kind === "ConfigMap" && d.data?.["prometheus.yml"]);
    assert.ok(configMap, "a ConfigMap holding prometheus.yml");
    const volume = prometheus.spec.template.spec.volumes.find((v: Doc) => v.configMap);
    assert.equal(volume.configMap.name, configMap.metadata.name);
    const mount = container(prometheus).volumeMounts.find((m: Doc) => m.name === volume.name);
    const file = flags(container(prometheus).args)["--config.file"];
    assert.equal(file, `${mount.mountPath}/prometheus.yml`);
  });

  await t.step("Prometheus's keep rules pick exactly each job's pods", () => {
    const configMap = docs.find((d) => d.kind === "ConfigMap" && d.data?.["prometheus.yml"])!;
    const config = parseYaml(configMap.data["prometheus.yml"]) as Doc;
    assert.equal(config.global.scrape_interval, "1s");
    const jobs: Doc[] = config.scrape_configs;
    const wanted = { model: MODEL, dispatcher: DISPATCHER, autoscaler: AUTOSCALER } as Doc;
    assert.deepEqual(jobs.map((job) => job.job_name), Object.values(JOBS));
    for (const job of jobs) {
      const name = job.job_name;
      assert.deepEqual(job.kubernetes_sd_configs, [{
        role: "pod",
        namespaces: { own_namespace: true },
      }]);
      const rules: Doc[] = job.relabel_configs;
      const keeps = rules.filter((r) => r.action === "keep");
      // Prometheus anchors relabel regexes at both ends.
      const matches = (rule: Doc, value: string) => new RegExp(`^(?:${rule.regex})$`).test(value);
      const keptBy = (labels: Record<string, string>) =>
        keeps.every((rule) => {
          const label = rule.source_labels.join();
          if (label.startsWith("__meta_kubernetes_pod_label_")) {
            const key = Object.keys(labels).find((k) =>
              `__meta_kubernetes_pod_label_${k.replace(/[^a-zA-Z0-9_]/g, "_")}` === label
            );
            return matches(rule, key ? labels[key] : "");
          }
          return true;
        });
      const kept = deployments.filter((d) => keptBy(podLabels(d))).map((d) => d.metadata.name);
      const expected = rendered.maybe("Deployment", wanted[name]) ? [wanted[name]] : [];
      assert.deepEqual(kept, expected, `job ${name} keeps the pods of ${expected}`);
      const portRule = keeps.find((r) =>
        r.source_labels.join() === "__meta_kubernetes_pod_container_port_name"
      );
      assert.ok(portRule, `job ${name} keeps one port per pod`);
      for (const deployment of deployments.filter((d) => kept.includes(d.metadata.name))) {
        const names = container(deployment).ports.map((p: Doc) => p.name);
        assert.deepEqual(names.filter((n: string) => matches(portRule, n)), ["http"], name);
      }
      const targets = rules.map((r) => `${r.source_labels?.join()}->${r.target_label}`);
      assert.ok(targets.includes("__meta_kubernetes_pod_name->pod"), name);
      assert.ok(targets.includes("__meta_kubernetes_namespace->namespace"), name);
      // up{job="model"} is what counts replicas: nothing may rename the job.
      assert.ok(!rules.some((r) => r.target_label === "job"), name);
    }
  });
}

Deno.test({
  name: "the kustomizations render manifests that agree with each other and the code" +
    (HAS_KUBECTL ? "" : NO_KUBECTL),
  ignore: !HAS_KUBECTL,
  async fn(t) {
    for (const path of kustomizations()) {
      await t.step(path, async (t) => {
        await checkCommon(t, await render(path));
      });
    }
  },
});

Deno.test({
  name: "the base runs the real weights and the project's autoscaler" +
    (HAS_KUBECTL ? "" : NO_KUBECTL),
  ignore: !HAS_KUBECTL,
  async fn(t) {
    const { find, docs } = await render("k8s");
    const model = find("Deployment", MODEL);

    await t.step("the init container downloads and verifies the real weights", () => {
      const [init] = model.spec.template.spec.initContainers;
      assert.equal(init.command[0], "resnet-model-fetch");
      // No --sha256 or --url: the published checksum and size are checked.
      assert.deepEqual(Object.keys(flags(init.command.slice(1))), ["--out"]);
      assert.equal(docs.filter((d) => d.kind === "HorizontalPodAutoscaler").length, 0);
    });

    await t.step("the autoscaler's defaults name this Deployment and namespace", () => {
      const autoscaler = find("Deployment", AUTOSCALER);
      const main = container(autoscaler);
      const config = parseAutoscalerConfig(expandArgs(main, NAMESPACE), envOf(main));
      assert.equal(config.scaler, "kubernetes");
      assert.equal(find("Deployment", config.deployment), model);
      // Unset: in a pod the autoscaler takes its own namespace, the model's.
      assert.equal(config.namespace ?? autoscaler.metadata.namespace, model.metadata.namespace);
      assert.equal(config.host, "0.0.0.0", "Prometheus scrapes the autoscaler on its pod IP");
      assert.equal(config.port, main.ports[0].containerPort);

      const url = new URL(config.prometheusUrl);
      const service = find("Service", url.hostname);
      assert.ok(service.spec.ports.some((p: Doc) => p.port === Number(url.port)));
      assert.ok(selects(service.spec.selector, podLabels(find("Deployment", "prometheus"))));
    });
  },
});

for (const percent of [70, 90]) {
  const path = `k8s/overlays/hpa-cpu-${percent}`;
  Deno.test({
    name: `${path} replaces the autoscaler with an HPA at ${percent} % CPU` +
      (HAS_KUBECTL ? "" : NO_KUBECTL),
    ignore: !HAS_KUBECTL,
    async fn() {
      const { docs, find, maybe } = await render(path);
      const hpas = docs.filter((d) => d.kind === "HorizontalPodAutoscaler");
      assert.equal(hpas.length, 1);
      const [hpa] = hpas;
      assert.equal(hpa.apiVersion, "autoscaling/v2");
      const target = hpa.spec.scaleTargetRef;
      assert.equal(find(target.kind, target.name).apiVersion, target.apiVersion);
      assert.equal(target.name, MODEL);
      assert.deepEqual(hpa.spec.metrics, [{
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: percent } },
      }]);
      // Same bounds as the project's autoscaler, to compare like with like.
      assert.equal(hpa.spec.minReplicas, Number(AUTOSCALER_DEFAULTS.min));
      assert.equal(hpa.spec.maxReplicas, Number(AUTOSCALER_DEFAULTS.max));
      assert.ok(container(find("Deployment", MODEL)).resources.requests.cpu);
      assert.equal(maybe("Deployment", AUTOSCALER), undefined, "one controller per count");
      // Nor its right to patch deployments/scale, which only it used.
      for (const kind of ["ServiceAccount", "Role", "RoleBinding"]) {
        assert.equal(maybe(kind, AUTOSCALER), undefined, `${kind} ${AUTOSCALER} is left`);
      }
    },
  });
}

Deno.test({
  name: "k8s/overlays/synthetic builds the synthetic weights instead" +
    (HAS_KUBECTL ? "" : NO_KUBECTL),
  ignore: !HAS_KUBECTL,
  async fn() {
    const base = (await render("k8s")).find("Deployment", MODEL);
    const synthetic = (await render("k8s/overlays/synthetic")).find("Deployment", MODEL);
    const [init] = synthetic.spec.template.spec.initContainers;
    assert.equal(init.command[0], "resnet-model-synthetic");
    assert.equal(envOf(container(synthetic)).MODEL_PATH, flags(init.command.slice(1))["--out"]);
    assert.notEqual(envOf(container(base)).MODEL_PATH, envOf(container(synthetic)).MODEL_PATH);
    // Nothing else changes: same resources, probes and security.
    const strip = (d: Doc) => {
      const copy = structuredClone(d.spec.template.spec);
      delete copy.initContainers;
      copy.containers[0].env = copy.containers[0].env.filter((e: Doc) => e.name !== "MODEL_PATH");
      return copy;
    };
    assert.deepEqual(strip(synthetic), strip(base));
  },
});

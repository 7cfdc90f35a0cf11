import assert from "node:assert/strict";
import { createLogger } from "@common/log.ts";
import { FakeKubeApi } from "../autoscaler/fake_kube_api.ts";
import { loadKubeConfig } from "@common/kube_config.ts";
import { KubernetesScaler } from "../autoscaler/kubernetes_scaler.ts";
import {
  findApiCalls,
  groupOf,
  pathResource,
  requestPermission,
  resourceOf,
  sourceFiles,
} from "./_api_calls.ts";
import {
  allows,
  type Doc,
  grants,
  HAS_KUBECTL,
  NO_KUBECTL,
  type Permission,
  render,
  ROOT,
} from "./_render.ts";

const key = (p: Permission) => `${p.verb} ${p.group || "core"}/${p.resource}`;

Deno.test("the API call reader maps client-node names and paths to RBAC terms", () => {
  assert.equal(groupOf("CoreV1Api"), "");
  assert.equal(groupOf("AppsV1Api"), "apps");
  assert.equal(groupOf("DiscoveryV1Api"), "discovery.k8s.io");
  assert.equal(groupOf("RbacAuthorizationV1Api"), "rbac.authorization.k8s.io");
  assert.equal(resourceOf("DeploymentScale"), "deployments/scale");
  assert.equal(resourceOf("EndpointSlice"), "endpointslices");
  assert.equal(resourceOf("Endpoints"), "endpoints");
  assert.equal(resourceOf("NetworkPolicy"), "networkpolicies");
  assert.deepEqual(pathResource("/apis/discovery.k8s.io/v1/namespaces/x/endpointslices"), {
    group: "discovery.k8s.io",
    resource: "endpointslices",
  });
  assert.deepEqual(pathResource("/api/v1/pods"), { group: "", resource: "pods" });
  assert.deepEqual(
    requestPermission("GET", "/apis/discovery.k8s.io/v1/namespaces/r/endpointslices?watch=true"),
    { group: "discovery.k8s.io", resource: "endpointslices", verb: "watch" },
  );
  assert.deepEqual(
    requestPermission("PATCH", "/apis/apps/v1/namespaces/r/deployments/m/scale"),
    { group: "apps", resource: "deployments/scale", verb: "patch" },
  );
});

Deno.test("the API call reader finds calls in source text", async () => {
  const dir = await Deno.makeTempDir({ prefix: "k8s_calls_" });
  try {
    await Deno.mkdir(`${dir}/c`);
    await Deno.writeTextFile(
      `${dir}/c/discovery.ts`,
      [
        'import { DiscoveryV1Api, Watch } from "@kubernetes/client-node";',
        "const api = kc.makeApiClient(DiscoveryV1Api);",
        "await api.listNamespacedEndpointSlice({ namespace });",
        "const path = `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(ns)}` +",
        '  "/endpointslices";',
        "await new Watch(kc).watch(path, {}, onEvent, onDone);",
      ].join("\n"),
    );
    await Deno.writeTextFile(`${dir}/c/discovery_test.ts`, "api.deleteNamespacedPod();");
    const files = sourceFiles(dir, "c");
    assert.deepEqual(files, ["c/discovery.ts"]);
    const found = findApiCalls(dir, files).map(key).sort();
    assert.deepEqual(found, [
      "list discovery.k8s.io/endpointslices",
      "watch discovery.k8s.io/endpointslices",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The component's Role, and the permissions its code asks for. */
async function roleAndCalls(account: string, folder: string) {
  const { find } = await render("k8s");
  const role: Doc = find("Role", account);
  const calls = findApiCalls(ROOT, sourceFiles(ROOT, folder));
  return { role, calls };
}

function assertCovered(role: Doc, calls: Permission[]): void {
  const missing = calls.filter((call) => !allows(role, call)).map(key);
  assert.deepEqual(
    [...new Set(missing)],
    [],
    `Role ${role.metadata.name} must grant what the code calls`,
  );
}

function assertNothingExtra(role: Doc, calls: Permission[]): void {
  const used = new Set(calls.map(key));
  const unused = grants(role).map(key).filter((grant) => !used.has(grant));
  assert.deepEqual(unused, [], `Role ${role.metadata.name} grants what no code calls`);
}

Deno.test({
  name: "the autoscaler's Role covers exactly the API calls its code makes" +
    (HAS_KUBECTL ? "" : NO_KUBECTL),
  ignore: !HAS_KUBECTL,
  async fn(t) {
    const { role, calls } = await roleAndCalls("resnet-autoscaler", "autoscaler");

    await t.step("read from the source", () => {
      assert.ok(calls.length > 0, "the reader must find the scaler's calls");
      assertCovered(role, calls);
      assertNothingExtra(role, calls);
    });

    await t.step("seen by a fake API server while the scaler works", async () => {
      const { find } = await render("k8s");
      const model = find("Deployment", "resnet-model");
      const fake = await FakeKubeApi.start({
        deployments: [{ namespace: model.metadata.namespace, name: "resnet-model", replicas: 1 }],
      });
      const dir = await Deno.makeTempDir({ prefix: "k8s_rbac_" });
      try {
        const kubeconfig = await fake.writeKubeconfig(`${dir}/config`, {
          namespace: model.metadata.namespace,
        });
        const scaler = new KubernetesScaler({
          kubeConfig: loadKubeConfig({ kubeconfig, env: {} }),
          namespace: model.metadata.namespace,
          deployment: model.metadata.name,
          logger: createLogger({ component: "test", write: () => {} }),
        });
        await scaler.current();
        await scaler.scaleTo(2);
        await scaler.scaleTo(1);
        await scaler.close();
        const seen = fake.requests.map((r) => requestPermission(r.method, r.path));
        assert.ok(seen.length >= 3 && seen.every((p) => p !== undefined), "API requests seen");
        assertCovered(role, seen as Permission[]);
        // The reader of the source found at least what the scaler really did.
        const read = new Set(calls.map(key));
        for (const permission of seen as Permission[]) assert.ok(read.has(key(permission)));
      } finally {
        await fake.close();
        await Deno.remove(dir, { recursive: true });
      }
    });
  },
});

Deno.test({
  name: "the dispatcher's Role covers the EndpointSlice discovery it runs" +
    (HAS_KUBECTL ? "" : NO_KUBECTL),
  ignore: !HAS_KUBECTL,
  async fn(t) {
    const { role, calls } = await roleAndCalls("resnet-dispatcher", "dispatcher");

    await t.step("list and watch of endpointslices, nothing more", () => {
      // What --discovery kubernetes needs whether or not its code is there yet.
      const needed = ["list", "watch"].map((verb) => ({
        group: "discovery.k8s.io",
        resource: "endpointslices",
        verb,
      }));
      assertCovered(role, needed);
      assertNothingExtra(role, needed);
    });

    await t.step({
      name: "read from the source" +
        (calls.length > 0 ? "" : " (skipped: no Kubernetes API call in dispatcher/ yet)"),
      ignore: calls.length === 0,
      fn() {
        assertCovered(role, calls);
        assertNothingExtra(role, calls);
      },
    });
  },
});

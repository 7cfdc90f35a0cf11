import assert from "node:assert/strict";
import { AppsV1Api } from "@kubernetes/client-node";
import { createLogger } from "@common/log.ts";
import { FakeKubeApi } from "./fake_kube_api.ts";
import { defaultNamespace, loadKubeConfig, serverOf } from "@common/kube_config.ts";
import {
  KubernetesApiError,
  KubernetesScaler,
  type KubernetesScalerOptions,
} from "./kubernetes_scaler.ts";

const NS = "resnet";
const NAME = "resnet-model";

/** A fake with one Deployment, a kubeconfig for it and a scaler whose sleeps are recorded. */
async function setup(
  options: Partial<KubernetesScalerOptions> & {
    replicas?: number;
    onSleep?: () => void | Promise<void>;
  } = {},
) {
  const { replicas = 2, onSleep, ...scalerOptions } = options;
  const fake = await FakeKubeApi.start({
    deployments: [{ namespace: NS, name: NAME, replicas }],
  });
  const dir = await Deno.makeTempDir();
  const kubeconfig = await fake.writeKubeconfig(`${dir}/config`, { namespace: NS });
  const sleeps: number[] = [];
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    component: "test",
    write: (line) => lines.push(JSON.parse(line)),
  });
  const scaler = new KubernetesScaler({
    kubeConfig: loadKubeConfig({ kubeconfig, env: {} }),
    namespace: NS,
    deployment: NAME,
    logger,
    ...scalerOptions,
    retry: {
      sleep: async (ms) => {
        sleeps.push(ms);
        await onSleep?.();
      },
      ...scalerOptions.retry,
    },
  });
  return {
    fake,
    scaler,
    sleeps,
    lines,
    dir,
    kubeconfig,
    async [Symbol.asyncDispose]() {
      await fake.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("KubernetesScaler.current() counts ready pods, not wanted ones", async () => {
  await using env = await setup({ replicas: 3 });
  env.fake.setReadyLimit(NS, NAME, 1);
  assert.equal(await env.scaler.current(), 1);
  env.fake.setReadyLimit(NS, NAME, undefined);
  assert.equal(await env.scaler.current(), 3);
  // The API leaves readyReplicas out when it is zero.
  env.fake.put({ namespace: NS, name: NAME, replicas: 0 });
  assert.equal(await env.scaler.current(), 0);
  assert.equal(env.fake.count("GET", `/deployments/${NAME}`), 3);
});

Deno.test("KubernetesScaler.current() counts the scale if Deployments are forbidden", async () => {
  await using env = await setup({ replicas: 3 });
  env.fake.setReadyLimit(NS, NAME, 1);
  env.fake.forbid("get", "deployments");
  assert.equal(await env.scaler.current(), 3);
  assert.equal(await env.scaler.current(), 3);
  assert.equal(env.fake.count("GET", `/deployments/${NAME}`), 1, "asks for the Deployment once");
  assert.equal(env.fake.count("GET", "/scale"), 2);
  const warnings = env.lines.filter((line) => line.level === "warn");
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0].msg, "counting created pods, not ready ones");
});

Deno.test("KubernetesScaler.scaleTo() merge-patches the scale with the version read", async (t) => {
  await using env = await setup({ replicas: 2 });
  const before = env.fake.get(NS, NAME)!.resourceVersion;

  await t.step("writes spec.replicas as application/merge-patch+json", async () => {
    await env.scaler.scaleTo(4);
    assert.equal(env.fake.get(NS, NAME)!.replicas, 4);
    assert.ok(env.fake.get(NS, NAME)!.resourceVersion > before);
    const patches = env.fake.requests.filter((r) => r.method === "PATCH");
    assert.equal(patches.length, 1);
    assert.equal(patches[0].path, `/apis/apps/v1/namespaces/${NS}/deployments/${NAME}/scale`);
    assert.equal(patches[0].contentType, "application/merge-patch+json");
    const line = env.lines.find((l) => l.msg === "replicas set");
    assert.deepEqual([line?.from, line?.to], [2, 4]);
  });

  await t.step("does not write a count that is already set", async () => {
    await env.scaler.scaleTo(4);
    assert.equal(env.fake.count("PATCH", "/scale"), 1);
  });

  await t.step("scales to zero", async () => {
    await env.scaler.scaleTo(0);
    assert.equal(env.fake.get(NS, NAME)!.replicas, 0);
  });

  await t.step("refuses counts that are not whole numbers >= 0", async () => {
    await assert.rejects(env.scaler.scaleTo(-1), RangeError);
    await assert.rejects(env.scaler.scaleTo(1.5), {
      name: "RangeError",
      message: "Cannot scale to 1.5 replicas: expected a whole number >= 0",
    });
  });
});

Deno.test("the fake refuses patch content types the real API server refuses", async (t) => {
  await using env = await setup();
  const url = `${env.fake.url}/apis/apps/v1/namespaces/${NS}/deployments/${NAME}/scale`;
  const patch = (contentType: string, body: unknown) =>
    fetch(url, {
      method: "PATCH",
      headers: { authorization: `Bearer ${env.fake.token}`, "content-type": contentType },
      body: JSON.stringify(body),
    });

  await t.step("application/json is 415 with a Status body", async () => {
    const response = await patch("application/json", { spec: { replicas: 3 } });
    assert.equal(response.status, 415);
    const status = await response.json();
    assert.equal(status.kind, "Status");
    assert.equal(status.reason, "UnsupportedMediaType");
    assert.equal(env.fake.get(NS, NAME)!.replicas, 2);
  });

  await t.step("client-node without the content type sends a JSON patch, refused", async () => {
    const api = loadKubeConfig({ kubeconfig: env.kubeconfig, env: {} }).makeApiClient(AppsV1Api);
    await assert.rejects(
      api.patchNamespacedDeploymentScale({
        name: NAME,
        namespace: NS,
        body: { spec: { replicas: 3 } },
      }),
      (error: { code?: number }) => error.code === 400,
    );
    assert.equal(env.fake.requests.at(-1)?.contentType, "application/json-patch+json");
    assert.equal(env.fake.get(NS, NAME)!.replicas, 2);
  });
});

Deno.test("KubernetesScaler.scaleTo() reads again and retries after a 409 Conflict", async () => {
  await using env = await setup({ replicas: 1 });
  env.fake.conflictNextPatches(1);
  await env.scaler.scaleTo(3);
  assert.equal(env.fake.get(NS, NAME)!.replicas, 3);
  assert.equal(env.fake.count("PATCH", "/scale"), 2);
  assert.equal(env.fake.count("GET", "/scale"), 2, "read again before the second write");
  assert.equal(
    env.lines.filter((l) => l.msg === "deployment changed while writing; reading again").length,
    1,
  );
});

Deno.test("KubernetesScaler.scaleTo() gives up after repeated conflicts and says why", async () => {
  await using env = await setup({ replicas: 1 });
  env.fake.conflictNextPatches(100);
  const error = await env.scaler.scaleTo(3).catch((e) => e);
  assert.ok(error instanceof KubernetesApiError);
  assert.equal(error.status, 409);
  assert.equal(error.retryable, true);
  assert.match(
    error.message,
    /^Cannot set Deployment resnet\/resnet-model to 3 replicas: it changed/,
  );
  assert.match(error.message, /4 times in a row \(409 Conflict\).*let only the autoscaler set it$/);
  assert.equal(env.fake.count("PATCH", "/scale"), 4);
  assert.equal(env.fake.get(NS, NAME)!.replicas, 1);
});

Deno.test("KubernetesScaler says how to fix a missing Deployment", async () => {
  await using env = await setup();
  const scaler = new KubernetesScaler({
    kubeConfig: loadKubeConfig({ kubeconfig: env.kubeconfig, env: {} }),
    namespace: NS,
    deployment: "absent",
    logger: createLogger({ component: "test", write: () => {} }),
  });
  const message = "Deployment resnet/absent is missing: create it (kubectl apply -k k8s) or fix " +
    '--namespace/--deployment; the server said: deployments.apps "absent" not found';
  await assert.rejects(scaler.current(), { name: "KubernetesApiError", status: 404, message });
  await assert.rejects(scaler.scaleTo(2), { status: 404, message, retryable: false });
});

Deno.test("KubernetesScaler names the verb and resource the service account lacks", async () => {
  await using env = await setup();
  env.fake.forbid("patch", "deployments/scale");
  const error = await env.scaler.scaleTo(3).catch((e) => e);
  assert.ok(error instanceof KubernetesApiError);
  assert.equal(error.status, 403);
  assert.equal(error.reason, "Forbidden");
  assert.equal(error.retryable, false);
  assert.match(
    error.message,
    /^Kubernetes API forbids patch deployments\/scale in namespace resnet \(403 Forbidden/,
  );
  assert.match(error.message, /grant verb "patch" on "deployments\/scale" \(apiGroup apps\)/);
  assert.match(error.message, /cannot patch resource "deployments\/scale"/, "quotes the server");
  assert.equal(env.fake.get(NS, NAME)!.replicas, 2);
});

Deno.test("KubernetesScaler reports rejected credentials", async () => {
  await using env = await setup();
  env.fake.token = "rotated-elsewhere";
  const error = await env.scaler.current().catch((e) => e);
  assert.ok(error instanceof KubernetesApiError);
  assert.equal(error.status, 401);
  assert.equal(error.retryable, false);
  assert.match(
    error.message,
    new RegExp(
      `^Kubernetes API at ${env.fake.url} rejected the credentials of context "fake" ` +
        `\\(401 Unauthorized\\) on get deployments resnet/resnet-model: the token`,
    ),
  );
});

Deno.test("KubernetesScaler backs off while the API is down, then works again", async (t) => {
  let bringBackAfter = Infinity;
  await using env = await setup({
    onSleep: async () => {
      if (--bringBackAfter === 0) await env.fake.up();
    },
  });
  await env.fake.down();

  await t.step("gives up after 3 retries with a retryable error", async () => {
    const error = await env.scaler.scaleTo(3).catch((e) => e);
    assert.ok(error instanceof KubernetesApiError);
    assert.equal(error.retryable, true);
    assert.equal(error.status, undefined);
    assert.deepEqual(env.sleeps, [500, 1000, 2000]);
    assert.equal(
      error.message,
      `Cannot reach the Kubernetes API at ${env.fake.url} to get deployments/scale ` +
        "resnet/resnet-model: connection refused (4 attempts over 3.5 s); check that the API " +
        "server is up and that --kubeconfig/--context point at it",
    );
  });

  await t.step("succeeds when the API returns during the backoff", async () => {
    env.sleeps.length = 0;
    bringBackAfter = 2;
    await env.scaler.scaleTo(3);
    assert.deepEqual(env.sleeps, [500, 1000]);
    assert.equal(env.fake.get(NS, NAME)!.replicas, 3);
  });

  await t.step("works without retries once it is up", async () => {
    env.sleeps.length = 0;
    assert.equal(await env.scaler.current(), 3);
    assert.deepEqual(env.sleeps, []);
  });
});

Deno.test("KubernetesScaler treats a silent API server as unreachable", async () => {
  // Accepts connections and never answers, like a server that hangs.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of silent) held.push(conn);
  })();
  const dir = await Deno.makeTempDir();
  try {
    const fake = await FakeKubeApi.start();
    const yaml = fake.kubeconfig().replace(
      fake.url,
      `http://127.0.0.1:${(silent.addr as Deno.NetAddr).port}`,
    );
    await fake.close();
    await Deno.writeTextFile(`${dir}/config`, yaml);
    const scaler = new KubernetesScaler({
      kubeConfig: loadKubeConfig({ kubeconfig: `${dir}/config`, env: {} }),
      namespace: NS,
      deployment: NAME,
      logger: createLogger({ component: "test", write: () => {} }),
      retry: { timeoutMs: 100, attempts: 1, sleep: () => Promise.resolve() },
    });
    const error = await scaler.current().catch((e) => e);
    assert.ok(error instanceof KubernetesApiError);
    assert.equal(error.retryable, true);
    assert.match(error.message, /no answer within the request timeout \(2 attempts over 0\.5 s\)/);
  } finally {
    silent.close();
    await accepting.catch(() => {});
    for (const conn of held) conn.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KubernetesScaler picks up a rotated token file after a 401", async (t) => {
  await using env = await setup();
  const tokenFile = `${env.dir}/token`;
  await Deno.writeTextFile(tokenFile, env.fake.token);
  const kubeconfig = await env.fake.writeKubeconfig(`${env.dir}/rotating`, { tokenFile });
  const load = () => loadKubeConfig({ kubeconfig, env: {} });
  const logger = createLogger({ component: "test", write: () => {} });
  const rotating = new KubernetesScaler({
    kubeConfig: load(),
    reloadKubeConfig: load,
    namespace: NS,
    deployment: NAME,
    logger,
  });
  const fixed = new KubernetesScaler({
    kubeConfig: load(),
    namespace: NS,
    deployment: NAME,
    logger,
  });
  assert.equal(await rotating.current(), 2);
  assert.equal(await fixed.current(), 2);

  env.fake.token = "second-token";
  await Deno.writeTextFile(tokenFile, "second-token");

  await t.step("client-node alone keeps the old token for up to 60 s", async () => {
    await assert.rejects(fixed.current(), { status: 401 });
  });

  await t.step("the scaler reloads once and carries on", async () => {
    const before = env.fake.requests.length;
    assert.equal(await rotating.current(), 2);
    const seen = env.fake.requests.slice(before).map((r) => r.user ?? "rejected");
    assert.deepEqual(seen, ["rejected", "system:serviceaccount:resnet:resnet-autoscaler"]);
  });

  await t.step("a token that stays wrong still fails, after one reload", async () => {
    env.fake.token = "third-token";
    const before = env.fake.requests.length;
    await assert.rejects(rotating.current(), { status: 401 });
    assert.equal(env.fake.requests.length - before, 2);
  });
});

Deno.test("KubernetesScaler.scaleTo() waits for readiness only when asked to", async (t) => {
  let onSleep = () => {};
  await using env = await setup({
    replicas: 1,
    readyTimeoutMs: 5_000,
    readyPollMs: 1_000,
    onSleep: () => onSleep(),
  });

  await t.step("returns once the new pods are ready", async () => {
    env.fake.setReadyLimit(NS, NAME, 1);
    onSleep = () => env.fake.setReadyLimit(NS, NAME, undefined);
    await env.scaler.scaleTo(3);
    assert.deepEqual(env.sleeps, [1_000]);
    assert.equal(await env.scaler.current(), 3);
  });

  await t.step("gives up after readyTimeoutMs with a warning, keeping the write", async () => {
    env.sleeps.length = 0;
    env.fake.setReadyLimit(NS, NAME, 3);
    onSleep = () => {};
    await env.scaler.scaleTo(4);
    assert.deepEqual(env.sleeps, [1_000, 1_000, 1_000, 1_000, 1_000]);
    assert.equal(env.fake.get(NS, NAME)!.replicas, 4);
    const warning = env.lines.find((l) => l.msg === "replicas not ready in time");
    assert.deepEqual([warning?.wanted, warning?.ready], [4, 3]);
  });
});

Deno.test("loadKubeConfig() reads an explicit file and checks the context", async (t) => {
  await using env = await setup();
  await t.step("uses the file's current context and namespace", () => {
    const kc = loadKubeConfig({ kubeconfig: env.kubeconfig, env: {} });
    assert.equal(serverOf(kc), env.fake.url);
    assert.equal(defaultNamespace(kc), NS);
  });
  await t.step("names a missing file", () => {
    assert.throws(() => loadKubeConfig({ kubeconfig: `${env.dir}/nope`, env: {} }), {
      message:
        `Cannot load kubeconfig ${env.dir}/nope: the file does not exist; check --kubeconfig`,
    });
  });
  await t.step("lists the contexts when --context names none of them", () => {
    assert.throws(() => loadKubeConfig({ kubeconfig: env.kubeconfig, context: "prod", env: {} }), {
      message: 'Cannot use context "prod": the kubeconfig has no such context (it has: fake); ' +
        "check --context",
    });
  });
  await t.step("refuses plain HTTP that client-node would refuse on every request", async () => {
    const path = `${env.dir}/plain`;
    await Deno.writeTextFile(
      path,
      env.fake.kubeconfig().replace("insecure-skip-tls-verify: true", ""),
    );
    assert.throws(() => loadKubeConfig({ kubeconfig: path, env: {} }), /insecure-skip-tls-verify/);
  });
});

Deno.test("loadKubeConfig() falls back to $KUBECONFIG, then ~/.kube/config", async (t) => {
  await using env = await setup();
  await t.step("$KUBECONFIG, first file's context wins", async () => {
    const other = env.fake.kubeconfig({ namespace: "other" }).replaceAll('"fake"', '"second"');
    await Deno.writeTextFile(`${env.dir}/second`, other);
    const kc = loadKubeConfig({ env: { KUBECONFIG: `${env.kubeconfig}:${env.dir}/second` } });
    assert.equal(kc.getCurrentContext(), "fake");
    assert.deepEqual(kc.getContexts().map((c) => c.name), ["fake", "second"]);
  });
  await t.step("~/.kube/config", async () => {
    await Deno.mkdir(`${env.dir}/home/.kube`, { recursive: true });
    await Deno.copyFile(env.kubeconfig, `${env.dir}/home/.kube/config`);
    const kc = loadKubeConfig({ env: { HOME: `${env.dir}/home` } });
    assert.equal(serverOf(kc), env.fake.url);
  });
  await t.step("says where it looked when nothing is there", () => {
    assert.throws(() => loadKubeConfig({ env: { HOME: `${env.dir}/nobody` } }), {
      message: "Cannot find Kubernetes credentials: no --kubeconfig, $KUBECONFIG is unset, " +
        `${env.dir}/nobody/.kube/config does not exist and KUBERNETES_SERVICE_HOST is unset ` +
        "(not in a pod); pass --kubeconfig FILE",
    });
  });
});

Deno.test("loadKubeConfig() uses the pod's service account in a cluster", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    await t.step("refuses when the token is not mounted", () => {
      assert.throws(
        () =>
          loadKubeConfig({ env: { KUBERNETES_SERVICE_HOST: "10.0.0.1" }, serviceAccountDir: dir }),
        { message: new RegExp(`${dir}/token is missing; mount the service account token`) },
      );
    });
    await Deno.writeTextFile(`${dir}/token`, "pod-token");
    await Deno.writeTextFile(`${dir}/ca.crt`, "not read until a request is made");
    await Deno.writeTextFile(`${dir}/namespace`, "resnet");

    await t.step("builds an https cluster, the token file user and the pod namespace", () => {
      const env = { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "6443" };
      const kc = loadKubeConfig({ env, serviceAccountDir: dir });
      assert.equal(serverOf(kc), "https://[fd00::1]:6443");
      assert.equal(kc.getCurrentCluster()?.caFile, `${dir}/ca.crt`);
      assert.equal(kc.getCurrentUser()?.authProvider?.config?.tokenFile, `${dir}/token`);
      assert.equal(defaultNamespace(kc), "resnet");
    });
    await t.step("an explicit file wins over the pod", async () => {
      await using env = await setup();
      const kc = loadKubeConfig({
        kubeconfig: env.kubeconfig,
        env: { KUBERNETES_SERVICE_HOST: "10.0.0.1" },
        serviceAccountDir: dir,
      });
      assert.equal(serverOf(kc), env.fake.url);
    });
    await t.step("--context makes no sense in a pod", () => {
      assert.throws(
        () =>
          loadKubeConfig({
            context: "x",
            env: { KUBERNETES_SERVICE_HOST: "10.0.0.1" },
            serviceAccountDir: dir,
          }),
        /contexts belong to kubeconfig files/,
      );
    });
    await t.step("inCluster: true outside a pod says so", () => {
      assert.throws(
        () => loadKubeConfig({ inCluster: true, env: {}, serviceAccountDir: dir }),
        /KUBERNETES_SERVICE_HOST is not set, so this is not a pod/,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

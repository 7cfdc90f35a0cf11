import assert from "node:assert/strict";
import { join } from "node:path";
import { createLogger } from "@common/log.ts";
import { type FakeEndpointSlice, FakeKubeApi } from "../autoscaler/fake_kube_api.ts";
import { parseConfig } from "./config.ts";
import { startDispatcher } from "./server.ts";
import { type FakeReplica, startFakeReplica, until } from "./_test_support.ts";

const NS = "resnet";
const SERVICE = "resnet-model";

/** One slice per replica, since a slice has one port for all its endpoints. */
function sliceOf(name: string, replica: FakeReplica, ready: boolean): FakeEndpointSlice {
  const [host, port] = replica.address.split(":");
  return {
    namespace: NS,
    name,
    service: SERVICE,
    endpoints: [{ addresses: [host], conditions: { ready, serving: ready } }],
    ports: [{ name: "http", port: Number(port), protocol: "TCP" }],
  };
}

/** A logger whose lines are kept and can be awaited. */
function watchedLogger() {
  const lines: Record<string, unknown>[] = [];
  let waiters: (() => void)[] = [];
  const logger = createLogger({
    component: "test",
    level: "debug",
    write: (line) => {
      lines.push(JSON.parse(line));
      const ready = waiters;
      waiters = [];
      for (const resolve of ready) resolve();
    },
  });
  const nextLine = () => new Promise<void>((resolve) => waiters.push(resolve));
  return { logger, lines, nextLine };
}

async function kubeconfigFile(fake: FakeKubeApi, namespace = NS) {
  const dir = await Deno.makeTempDir({ prefix: "dispatcher_discovery_" });
  const path = await fake.writeKubeconfig(join(dir, "kubeconfig"), { namespace });
  return { dir, path };
}

Deno.test("startDispatcher() with --discovery kubernetes follows the slices", async () => {
  const [a, b] = await Promise.all([startFakeReplica(), startFakeReplica()]);
  const fake = await FakeKubeApi.start({
    endpointSlices: [sliceOf("model-a", a, true), sliceOf("model-b", b, false)],
  });
  const { dir, path } = await kubeconfigFile(fake);
  const { logger, lines, nextLine } = watchedLogger();
  // No --namespace: the kubeconfig context's namespace is the default.
  const config = parseConfig([
    "--port",
    "0",
    "--discovery",
    "kubernetes",
    "--service",
    SERVICE,
    "--port-name",
    "http",
    "--kubeconfig",
    path,
  ], {});
  const dispatcher = await startDispatcher(config, { logger, processMetrics: false, env: {} });
  const classify = async () => {
    const response = await fetch(`${dispatcher.url}/classify`, {
      method: "POST",
      body: new Uint8Array([1, 2, 3]),
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
    return response.headers.get("x-replica");
  };
  const replicasGauge = async () => {
    const text = await (await fetch(`${dispatcher.url}/metrics`)).text();
    return Number(text.match(/^dispatcher_replicas (\S+)$/m)?.[1]);
  };
  try {
    listeningSaysKubernetes();
    assert.deepEqual(dispatcher.pool.addresses(), [a.address]);
    assert.equal(dispatcher.discovery.kind, "kubernetes");
    assert.throws(() => dispatcher.watcher, TypeError);
    // Only the ready replica gets requests.
    for (let i = 0; i < 4; i++) assert.equal(await classify(), a.address);
    assert.equal(b.seen.length, 0);
    assert.equal(await replicasGauge(), 1);

    // b becomes ready: both serve.
    fake.putSlice(sliceOf("model-b", b, true));
    await until(() => dispatcher.pool.size === 2, nextLine);
    assert.equal(await replicasGauge(), 2);

    // a's slice goes away: only b is left.
    fake.deleteSlice(NS, "model-a");
    await until(() => dispatcher.pool.size === 1, nextLine);
    assert.deepEqual(dispatcher.pool.addresses(), [b.address]);
    const before = a.seen.length;
    for (let i = 0; i < 3; i++) assert.equal(await classify(), b.address);
    assert.equal(a.seen.length, before);

    // b turns not ready: the pool empties.
    fake.putSlice(sliceOf("model-b", b, false));
    await until(() => dispatcher.pool.size === 0, nextLine);
    assert.equal(await replicasGauge(), 0);
  } finally {
    await dispatcher.shutdown();
    await fake.close();
    await Promise.all([a.close(), b.close()]);
    await Deno.remove(dir, { recursive: true });
  }

  function listeningSaysKubernetes() {
    const listening = lines.find((line) => line.msg === "listening");
    assert.ok(listening, "a listening line");
    assert.equal(listening.discovery, "kubernetes");
    assert.equal(listening.namespace, NS);
    assert.equal(listening.service, SERVICE);
    assert.equal(listening.replicas, 1);
  }
});

Deno.test("startDispatcher() rejects when the first list of slices fails", async (t) => {
  const { logger } = watchedLogger();
  const args = (path: string) => [
    "--port",
    "0",
    "--discovery",
    "kubernetes",
    "--service",
    SERVICE,
    "--kubeconfig",
    path,
  ];

  await t.step("forbidden by RBAC", async () => {
    const fake = await FakeKubeApi.start();
    fake.forbid("list", "endpointslices");
    const { dir, path } = await kubeconfigFile(fake);
    try {
      await assert.rejects(
        startDispatcher(parseConfig(args(path), {}), { logger, processMetrics: false, env: {} }),
        /forbids listing endpointslices in namespace resnet \(403 Forbidden\): grant verbs "list"/,
      );
    } finally {
      await fake.close();
      await Deno.remove(dir, { recursive: true });
    }
  });

  await t.step("API server not reachable", async () => {
    // A fake that has stopped: its port on 127.0.0.1 refuses connections.
    const fake = await FakeKubeApi.start();
    const { dir, path } = await kubeconfigFile(fake);
    await fake.close();
    try {
      await assert.rejects(
        startDispatcher(parseConfig(args(path), {}), { logger, processMetrics: false, env: {} }),
        /Cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:\d+ to list the EndpointSlices/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  await t.step("no credentials anywhere", async () => {
    const config = parseConfig(["--port", "0", "--discovery", "kubernetes", "--service", "m"], {});
    await assert.rejects(
      startDispatcher(config, { logger, processMetrics: false, env: {} }),
      /Cannot find Kubernetes credentials/,
    );
  });
});

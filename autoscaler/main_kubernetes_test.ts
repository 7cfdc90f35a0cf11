/**
 * The autoscaler process with `--scaler kubernetes`: it reads a request rate
 * from a Prometheus-shaped server and sets the Deployment's replicas through
 * the scale subresource of a Kubernetes-shaped server, both on loopback. A
 * restart must not shrink the running Deployment to --min.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startService } from "@common/service_process.ts";
import { FakeKubeApi } from "./fake_kube_api.ts";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

function fakePrometheus(rate: () => number) {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () =>
    Response.json({
      status: "success",
      data: {
        resultType: "vector",
        result: [{ metric: {}, value: [Date.now() / 1000, String(rate())] }],
      },
    }));
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test("autoscale --scaler kubernetes sets replicas from the rate", async () => {
  const dir = await Deno.makeTempDir({ prefix: "autoscaler-k8s-" });
  const fake = await FakeKubeApi.start();
  fake.put({ namespace: "resnet", name: "resnet-model", replicas: 3 });
  const kubeconfig = await fake.writeKubeconfig(`${dir}/config`, { namespace: "resnet" });
  // Traffic for 5 replicas from the start: ceil(23 / 5).
  let rate = 23;
  const prometheus = fakePrometheus(() => rate);
  const autoscaler = await startService({
    name: "autoscaler",
    args: [
      "run",
      "--allow-all",
      MAIN,
      "--scaler",
      "kubernetes",
      "--kubeconfig",
      kubeconfig,
      "--prometheus",
      `http://127.0.0.1:${prometheus.addr.port}`,
      "--interval",
      "0.2",
      "--scale-down-window",
      "0",
      "--port",
      "0",
      "--max",
      "8",
    ],
  });
  try {
    const replicas = () => fake.get("resnet", "resnet-model")!.replicas;
    await until("5 replicas", () => replicas() === 5);
    // One write, 3 -> 5: a start-up shrink to --min would have written 1 first.
    assert.equal(fake.count("PATCH", "/scale"), 1);
    rate = 0;
    await until("the fleet back at --min", () => replicas() === 1);
  } finally {
    await autoscaler.stop();
    await prometheus.shutdown();
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startService } from "@common/service_process.ts";
import { writeTargets } from "@common/targets.ts";
import { FakeKubeApi } from "../autoscaler/fake_kube_api.ts";
import { startFakeReplica, tempTargets } from "./_test_support.ts";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

Deno.test("dispatcher main logs its port, serves, and exits 0 on SIGTERM", async () => {
  const replica = await startFakeReplica();
  const { dir, path } = await tempTargets();
  await writeTargets(path, [replica.address]);
  const lines: string[] = [];
  const dispatcher = await startService({
    name: "dispatcher",
    args: ["run", "--allow-all", MAIN, "--port", "0", "--targets", path],
    onLine: (line) => lines.push(line),
  });
  try {
    const response = await fetch(`http://127.0.0.1:${dispatcher.port}/classify`, {
      method: "POST",
      body: new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
      headers: { "content-type": "image/png" },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-replica"), replica.address);
    await response.body?.cancel();

    const status = await dispatcher.stop(10_000);
    assert.equal(status.code, 0);
    const records = lines.map((line) => JSON.parse(line));
    const listening = records.filter((record) => record.msg === "listening");
    assert.equal(listening.length, 1);
    assert.equal(listening[0].port, dispatcher.port);
    assert.equal(records.at(-1).msg, "stopped");
  } finally {
    await dispatcher.stop();
    await replica.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dispatcher main exits 2 and names every bad flag", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, "--port", "x", "--retries", "99"],
    stdin: "null",
  }).output();
  assert.equal(output.code, 2);
  const stderr = new TextDecoder().decode(output.stderr);
  assert.match(stderr, /--port must be an integer from 0 to 65535, got "x"/);
  assert.match(stderr, /--retries must be an integer from 0 to 20, got "99"/);
});

Deno.test("dispatcher main follows EndpointSlices with --discovery kubernetes", async () => {
  const replica = await startFakeReplica();
  const [host, port] = replica.address.split(":");
  const fake = await FakeKubeApi.start({
    endpointSlices: [{
      namespace: "resnet",
      name: "model-1",
      service: "resnet-model",
      endpoints: [{ addresses: [host], conditions: { ready: true } }],
      ports: [{ name: "http", port: Number(port) }],
    }],
  });
  const dir = await Deno.makeTempDir({ prefix: "dispatcher_main_" });
  const kubeconfig = await fake.writeKubeconfig(join(dir, "kubeconfig"), { namespace: "resnet" });
  const args = ["run", "--allow-all", MAIN, "--port", "0", "--discovery", "kubernetes"];
  const lines: string[] = [];
  const dispatcher = await startService({
    name: "dispatcher",
    args: [...args, "--service", "resnet-model", "--port-name", "http", "--kubeconfig", kubeconfig],
    onLine: (line) => lines.push(line),
  });
  try {
    const response = await fetch(`http://127.0.0.1:${dispatcher.port}/classify`, {
      method: "POST",
      body: new Uint8Array([1, 2, 3]),
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-replica"), replica.address);
    await response.body?.cancel();
    assert.equal((await dispatcher.stop(10_000)).code, 0);
    const listening = lines.map((line) => JSON.parse(line)).find((r) => r.msg === "listening");
    assert.equal(listening.discovery, "kubernetes");
    assert.equal(listening.service, "resnet-model");

    // A first list that fails ends the process with the watcher's message.
    fake.forbid("list", "endpointslices");
    const output = await new Deno.Command(Deno.execPath(), {
      args: [...args, "--service", "resnet-model", "--kubeconfig", kubeconfig],
      stdin: "null",
    }).output();
    assert.equal(output.code, 1);
    const log = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    assert.match(log, /forbids listing endpointslices in namespace resnet \(403 Forbidden\)/);
  } finally {
    await dispatcher.stop();
    await fake.close();
    await replica.close();
    await Deno.remove(dir, { recursive: true });
  }
});

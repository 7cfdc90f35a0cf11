/**
 * `deno compile` cannot run on these machines, so the images' binaries are
 * never started here. What a compiled binary may do, though, is fixed by the
 * permission flags of its `deno compile` line; these tests run each entry
 * point with exactly those flags (and no prompt) and make it do its work, so
 * a missing permission fails here instead of in a pod.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { freePort } from "@common/free_port.ts";
import { startService } from "@common/service_process.ts";
import { waitForHttp } from "@common/wait_http.ts";
import { FakeKubeApi } from "../autoscaler/fake_kube_api.ts";
import { REPLICA_ENV } from "@common/replica_env.ts";
import { testModelPath } from "../model/_test_model.ts";
import { type CompileCommand, compileCommands } from "./dockerfile_check.ts";
import { parseDockerfile, splitStages } from "./dockerfile_parse.ts";
import { REPO_ROOT } from "./images.ts";

async function compiled(dockerfile: string, entry: string): Promise<CompileCommand> {
  const text = await Deno.readTextFile(join(REPO_ROOT, dockerfile));
  const command = splitStages(parseDockerfile(text)).flatMap(compileCommands)
    .find((c) => c.entry === entry);
  assert.ok(command, `${dockerfile} compiles ${entry}`);
  assert.ok(!command.permissions.includes("-A") && !command.permissions.includes("--allow-all"));
  return command;
}

/** `deno run` arguments that grant what the compiled binary is granted. */
function runArgs(command: CompileCommand, args: string[]): string[] {
  return ["run", "--no-prompt", ...command.permissions, command.entry, ...args];
}

const PERMISSION_ERROR = /NotCapable|Requires \w+ access|run again with the --allow/;

Deno.test("the model binary's permissions serve and score an image", async () => {
  const command = await compiled("model/Dockerfile", "model/main.ts");
  const lines: string[] = [];
  const model = await startService({
    name: "model",
    args: runArgs(command, ["--port", "0", "--model", await testModelPath()]),
    env: { ...REPLICA_ENV },
    onLine: (line) => lines.push(line),
  });
  try {
    const base = `http://127.0.0.1:${model.port}`;
    await waitForHttp(`${base}/readyz`, { timeoutMs: 60_000 });
    const image = await Deno.readFile(join(REPO_ROOT, "images", "gradient-circles-640x480.jpg"));
    const response = await fetch(`${base}/infer`, {
      method: "POST",
      headers: { "content-type": "image/jpeg" },
      body: image,
    });
    const body = await response.json();
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.predictions.length > 0, true);

    // The native paths, not only the fallbacks, must work under these flags.
    const log = lines.join("\n");
    assert.match(log, /"decoder":"sharp"/, "sharp (a native addon) loads");
    assert.match(log, /"mallocTrim":"glibc malloc_trim"/, "FFI to glibc works");
    assert.doesNotMatch(log, PERMISSION_ERROR);
  } finally {
    await model.stop();
  }
});

Deno.test("the dispatcher binary's permissions serve with a target file", async () => {
  const command = await compiled("dispatcher/Dockerfile", "dispatcher/main.ts");
  const dir = await Deno.makeTempDir({ prefix: "image-permissions-" });
  const targets = join(dir, "targets.json");
  await Deno.writeTextFile(targets, "[]\n");
  const lines: string[] = [];
  try {
    const dispatcher = await startService({
      name: "dispatcher",
      args: runArgs(command, ["--port", "0", "--targets", targets]),
      onLine: (line) => lines.push(line),
    });
    try {
      await waitForHttp(`http://127.0.0.1:${dispatcher.port}/healthz`, { timeoutMs: 30_000 });
      assert.doesNotMatch(lines.join("\n"), PERMISSION_ERROR);
    } finally {
      await dispatcher.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the dispatcher binary's permissions follow EndpointSlices", async () => {
  const command = await compiled("dispatcher/Dockerfile", "dispatcher/main.ts");
  const dir = await Deno.makeTempDir({ prefix: "image-permissions-" });
  // A loopback replica and a fake API server whose slice points at it.
  const replica = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => Response.json({ predictions: [] }),
  );
  const fake = await FakeKubeApi.start({
    endpointSlices: [{
      namespace: "resnet",
      name: "model-1",
      service: "resnet-model",
      endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }],
      ports: [{ name: "http", port: replica.addr.port }],
    }],
  });
  const kubeconfig = await fake.writeKubeconfig(join(dir, "kubeconfig"), { namespace: "resnet" });
  const lines: string[] = [];
  try {
    const dispatcher = await startService({
      name: "dispatcher",
      args: runArgs(command, [
        "--port",
        "0",
        "--discovery",
        "kubernetes",
        "--service",
        "resnet-model",
        "--port-name",
        "http",
        "--kubeconfig",
        kubeconfig,
      ]),
      onLine: (line) => lines.push(line),
    });
    try {
      const response = await fetch(`http://127.0.0.1:${dispatcher.port}/classify`, {
        method: "POST",
        body: new Uint8Array([1, 2, 3]),
      });
      assert.equal(response.status, 200, await response.text());
      assert.equal(response.headers.get("x-replica"), `127.0.0.1:${replica.addr.port}`);
      assert.doesNotMatch(lines.join("\n"), PERMISSION_ERROR);
    } finally {
      await dispatcher.stop();
    }
  } finally {
    await fake.close();
    await replica.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the autoscaler binary's permissions reach Prometheus and Kubernetes", async () => {
  const command = await compiled("autoscaler/Dockerfile", "autoscaler/main.ts");
  const dir = await Deno.makeTempDir({ prefix: "image-permissions-" });
  // Nothing listens on these loopback ports: the attempts fail with "connection
  // refused", which a missing permission would have turned into an error first.
  const kubeconfig = join(dir, "kubeconfig");
  await Deno.writeTextFile(
    kubeconfig,
    `apiVersion: v1\nkind: Config\ncurrent-context: test\n` +
      `clusters: [{name: test, cluster: {server: "https://127.0.0.1:${freePort()}"}}]\n` +
      `users: [{name: test, user: {token: test-token}}]\n` +
      `contexts: [{name: test, context: {cluster: test, user: test, namespace: resnet}}]\n`,
  );
  const lines: string[] = [];
  const apiTried = Promise.withResolvers<void>();
  try {
    const autoscaler = await startService({
      name: "autoscaler",
      args: runArgs(command, [
        "--scaler",
        "kubernetes",
        "--kubeconfig",
        kubeconfig,
        "--dry-run",
        "--port",
        "0",
        "--prometheus",
        `http://127.0.0.1:${freePort()}`,
      ]),
      onLine: (line) => {
        lines.push(line);
        if (line.includes("kubernetes API unavailable")) apiTried.resolve();
      },
    });
    try {
      await waitForHttp(`http://127.0.0.1:${autoscaler.port}/healthz`, { timeoutMs: 30_000 });
      await apiTried.promise;
      assert.match(lines.join("\n"), /connection refused/);
      assert.doesNotMatch(lines.join("\n"), PERMISSION_ERROR);
    } finally {
      await autoscaler.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the fetch binary's permissions download, verify and save", async () => {
  const command = await compiled("model/Dockerfile", "model/fetch_main.ts");
  const dir = await Deno.makeTempDir({ prefix: "image-permissions-" });
  const payload = new TextEncoder().encode("not really a model, but bytes with a checksum");
  const sha256 = createHash("sha256").update(payload).digest("hex");
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(payload),
  );
  try {
    const out = join(dir, "models", "weights.onnx");
    const result = await new Deno.Command(Deno.execPath(), {
      args: runArgs(command, [
        "--url",
        `http://127.0.0.1:${server.addr.port}/weights.onnx`,
        "--sha256",
        sha256,
        "--out",
        out,
      ]),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(result.stdout) +
      new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, output);
    assert.deepEqual(await Deno.readFile(out), payload);
    assert.doesNotMatch(output, PERMISSION_ERROR);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the synthetic binary's permissions build and save the weights", async () => {
  const command = await compiled("model/Dockerfile", "model/synthetic_main.ts");
  const dir = await Deno.makeTempDir({ prefix: "image-permissions-" });
  try {
    const out = join(dir, "synthetic.onnx");
    const result = await new Deno.Command(Deno.execPath(), {
      args: runArgs(command, ["--out", out]),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(result.stdout) +
      new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, output);
    assert.ok((await Deno.stat(out)).size > 40_000_000, "a full-size ResNet18 was written");
    assert.doesNotMatch(output, PERMISSION_ERROR);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

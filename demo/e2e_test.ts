/**
 * The whole system with every part real: Prometheus, the dispatcher, the
 * autoscaler with its local scaler, replicas serving the synthetic ResNet18 in
 * ONNX Runtime, and load made of real photos.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { createLogger } from "@common/log.ts";
import { processesMentioning } from "@common/_test_processes.ts";
import { sharedImages } from "@common/shared_images.ts";
import { runLoad } from "../loadtest/run_load.ts";
import { loadImages } from "../loadtest/images.ts";
import { startSystem } from "./system.ts";

const PHOTOS = `${sharedImages()}/imagenet-sample`;
const ROOT = fileURLToPath(new URL("..", import.meta.url));

async function buildSyntheticModel(path: string): Promise<void> {
  const status = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${ROOT}model/synthetic_main.ts`, "--out", path],
    stdout: "null",
    stderr: "inherit",
  }).output();
  assert.ok(status.success, "building the synthetic model failed");
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}

// Each policy with settings short enough to see a whole rise and fall in
// about a minute; the load is the same for all: 10 photos per second for 15 s.
// The targets sit well below what that load produces on a fast idle machine
// (0.25 requests in flight, 0.3 CPU cores, a p95 above one 1-thread inference
// of about 37 ms), so that growing is never a matter of luck.
const POLICIES: Record<string, string[]> = {
  rate: ["--policy", "rate", "--target-rate", "4", "--scale-down-window", "5"],
  hpa: ["--policy", "hpa", "--hpa-target", "0.15", "--hpa-scale-down-window", "5"],
  concurrency: [
    "--policy",
    "concurrency",
    "--target-concurrency",
    "0.2",
    "--stable-window",
    "10",
    "--panic-window",
    "4",
  ],
  latency: ["--policy", "latency", "--slo-ms", "30", "--latency-stabilization", "4"],
};

const ONLY = Deno.env.get("E2E_POLICY");

for (const [policy, policyArgs] of Object.entries(POLICIES)) {
  Deno.test({
    name: `with the ${policy} policy the system scales 1 -> 2+ -> 1 without failing a request`,
    ignore: ONLY !== undefined && ONLY !== policy,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: "resnet-e2e-" });
      const logger = createLogger({ component: "e2e", level: "warn" });
      const decisions: Record<string, unknown>[] = [];
      const model = `${dir}/synthetic.onnx`;
      await buildSyntheticModel(model);

      const system = await startSystem({
        runDir: dir,
        modelPath: model,
        autoscalerArgs: [...policyArgs, "--window", "5s", "--interval", "1", "--max", "3"],
        // Not 9090/9000: a developer's own services may hold those.
        prometheusPort: 0,
        dispatcherPort: 0,
        onDecision: (decision) => decisions.push(decision),
        logger,
      });
      try {
        assert.equal(await system.replicas(), 1);
        const { images } = await loadImages(PHOTOS);
        assert.ok(images.length >= 20, `expected the sample photos in ${PHOTOS}`);

        let peak = 1;
        const summary = await runLoad({
          url: `${system.dispatcherUrl}/classify`,
          images,
          steps: [{ rate: 10, seconds: 15 }],
          replicas: () => system.replicas(),
          onProgress: (second) => {
            if (second.replicas !== null) peak = Math.max(peak, second.replicas);
          },
        });

        assert.ok(summary.sent > 100, `expected over 100 requests, sent ${summary.sent}`);
        assert.equal(summary.ok, summary.sent, `failures: ${JSON.stringify(summary.errors)}`);
        const seen = () =>
          "; decisions:\n" +
          decisions.map((d) =>
            `${d.direction} ${d.current}->${d.desired} applied=${d.applied}: ${d.reason}`
          ).join("\n");
        assert.ok(peak >= 2, `replicas never rose above ${peak}${seen()}`);
        assert.ok(decisions.some((d) => d.direction === "up" && d.applied === true), seen());
        assert.ok(decisions.every((d) => d.policy === policy), "every decision names the policy");

        const shrunk = async () => await system.replicas() === 1;
        await waitFor("the fleet to shrink back to 1", shrunk, 60_000);
        // The target file shrinks before the decision that shrank it is logged
        // (the replica is unpublished first, then drained): wait for the line.
        const appliedDown = () =>
          Promise.resolve(decisions.some((d) => d.direction === "down" && d.applied === true));
        await waitFor("the scale-down decision", appliedDown, 10_000).catch(() => {});
        assert.ok(decisions.some((d) => d.direction === "down" && d.applied === true), seen());
      } finally {
        await system.stop();
      }
      assert.deepEqual(processesMentioning(dir), []);
      await Deno.remove(dir, { recursive: true });
    },
  });
}

/**
 * LocalScaler with a real replica process, for what the system test in
 * demo/scale_down_test.ts cannot provoke: a target file that cannot be written.
 */

import assert from "node:assert/strict";
import { createLogger } from "@common/log.ts";
import { readTargets } from "@common/targets.ts";
import { buildSyntheticResNet18 } from "../model/synthetic_model.ts";
import { LocalScaler } from "./local_scaler.ts";

/** Processes whose command line mentions `marker`, other than this one. */
function processesMentioning(marker: string): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name) || Number(entry.name) === Deno.pid) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).replaceAll("\0", " ");
      if (cmdline.includes(marker)) found.push(`${entry.name}: ${cmdline.slice(0, 160)}`);
    } catch {
      // It ended while we looked.
    }
  }
  return found;
}

Deno.test({
  name: "LocalScaler.scaleTo() keeps a replica it could not unpublish, and stops it later",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "resnet-local-scaler-" });
    const modelPath = `${dir}/synthetic.onnx`;
    await Deno.writeFile(modelPath, buildSyntheticResNet18().bytes);
    const targetsFile = `${dir}/targets/model.json`;
    const scaler = new LocalScaler({
      targetsFile,
      replicaArgs: ["--model", modelPath, "--threads", "1"],
      deregistrationDelayMs: 0,
      logger: createLogger({ component: "local-scaler", write: () => {} }),
    });
    try {
      await scaler.init();
      await scaler.scaleTo(1);
      const [address] = scaler.targets();
      assert.deepEqual(await readTargets(targetsFile), [address]);

      // writeTargets writes `<file>.<pid>.tmp` and renames it; a directory of
      // that name makes the write fail the way a full disk would.
      const blocker = `${targetsFile}.${Deno.pid}.tmp`;
      await Deno.mkdir(blocker);
      await assert.rejects(scaler.scaleTo(0), Deno.errors.IsADirectory);
      // Still listed in the file, so still sent requests: it must keep running
      // and stay the scaler's to stop.
      assert.deepEqual(await readTargets(targetsFile), [address]);
      assert.equal(await scaler.current(), 1);
      assert.deepEqual(scaler.targets(), [address]);
      const ready = await fetch(`http://${address}/readyz`);
      await ready.body?.cancel();
      assert.equal(ready.status, 200);

      await Deno.remove(blocker);
      await scaler.scaleTo(0);
      assert.deepEqual(await readTargets(targetsFile), []);
      assert.equal(await scaler.current(), 0);
    } finally {
      await scaler.close();
    }
    assert.deepEqual(processesMentioning(dir), []);
    await Deno.remove(dir, { recursive: true });
  },
});

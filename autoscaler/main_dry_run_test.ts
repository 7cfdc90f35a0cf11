/**
 * `deno task autoscale --dry-run` beside a live system: it decides and logs,
 * and writes nothing, not even the target file the live fleet depends on.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startService } from "@common/service_process.ts";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

Deno.test("autoscale --dry-run leaves the target file of a running fleet alone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "autoscaler-dry-" });
  const targets = `${dir}/model.json`;
  const live = '[{"targets":["127.0.0.1:8001","127.0.0.1:8002"]}]\n';
  await Deno.writeTextFile(targets, live);
  const decided = Promise.withResolvers<void>();
  const autoscaler = await startService({
    name: "autoscaler",
    args: [
      "run",
      "--allow-all",
      MAIN,
      "--dry-run",
      "--targets",
      targets,
      // Nothing listens on port 1: every decision holds for lack of data.
      "--prometheus",
      "http://127.0.0.1:1",
      "--interval",
      "0.2",
      "--port",
      "0",
    ],
    onLine: (line) => {
      if (line.includes('"msg":"decision"')) decided.resolve();
    },
  });
  try {
    await decided.promise;
    assert.equal(await Deno.readTextFile(targets), live);
  } finally {
    await autoscaler.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

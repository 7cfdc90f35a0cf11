/**
 * The replica as a process: SIGTERM turns readiness off at once, lets every
 * admitted request finish, refuses new ones, and exits 0.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startService } from "@common/service_process.ts";
import { waitForHttp } from "@common/wait_http.ts";
import { sharedImage, testModelPath } from "./_test_model.ts";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

Deno.test("SIGTERM drains: readiness off at once, admitted requests answered, exit 0", async () => {
  const replica = await startService({
    name: "replica",
    args: [
      "run",
      "--allow-all",
      MAIN,
      "--port",
      "0",
      "--model",
      await testModelPath(),
      "--threads",
      "1",
      "--max-in-flight",
      "1",
      "--max-queue",
      "8",
    ],
  });
  const url = `http://127.0.0.1:${replica.port}`;
  try {
    await waitForHttp(`${url}/readyz`, { timeoutMs: 60_000 });
    const photo = await sharedImage("imagenet-sample/n01440764_tench.JPEG");
    const send = () =>
      fetch(`${url}/infer`, {
        method: "POST",
        body: photo,
        headers: { "content-type": "image/jpeg" },
      });
    const admitted = Array.from({ length: 5 }, send);
    // All five are admitted once one runs and four wait.
    let queued = false;
    while (!queued) {
      const text = await (await fetch(`${url}/metrics`)).text();
      queued = /^inference_queue_depth 4$/m.test(text);
      if (!queued) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    Deno.kill(replica.pid, "SIGTERM");

    let ready = await fetch(`${url}/readyz`);
    // The signal is handled asynchronously: poll until it took effect.
    while (ready.status === 200) {
      await ready.body?.cancel();
      ready = await fetch(`${url}/readyz`);
    }
    assert.equal(ready.status, 503);
    assert.equal((await ready.json()).status, "draining");
    const late = await send();
    assert.equal(late.status, 503);
    assert.equal((await late.json()).error, "draining");

    const answers = await Promise.all(admitted);
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200]);
    for (const answer of answers) assert.equal((await answer.json()).predictions.length, 5);
    const status = await replica.exited;
    assert.equal(status.code, 0);
  } finally {
    await replica.stop();
  }
});

import assert from "node:assert/strict";
import { processesMentioning } from "./_test_processes.ts";

Deno.test("processesMentioning() finds a child by its marker until it has ended", async () => {
  const marker = `processes-test-${crypto.randomUUID()}`;
  assert.deepEqual(processesMentioning(marker), []);

  // A single process that carries the marker as an argument. A shell would
  // fork for its command, and the fork shows the marker too until it execs.
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "setTimeout(() => {}, 30_000)", marker],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    // Between fork and exec the child still shows this test's command line: poll.
    const deadline = Date.now() + 10_000;
    let found = processesMentioning(marker);
    while (found.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      found = processesMentioning(marker);
    }
    assert.equal(found.length, 1, found.join("\n"));
    assert.ok(found[0].startsWith(`${child.pid}: `), found[0]);
    assert.ok(found[0].endsWith(`eval setTimeout(() => {}, 30_000) ${marker}`), found[0]);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
  assert.deepEqual(processesMentioning(marker), []);
});

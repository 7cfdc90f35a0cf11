import assert from "node:assert/strict";
import { processesMentioning } from "./_test_processes.ts";

Deno.test("processesMentioning() finds a child by its marker until it has ended", async () => {
  const marker = `processes-test-${crypto.randomUUID()}`;
  assert.deepEqual(processesMentioning(marker), []);

  // The marker is the shell's $0; the compound command keeps sh from exec'ing sleep.
  const child = new Deno.Command("sh", {
    args: ["-c", "sleep 30; true", marker],
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
    // The program may be shown by its full path, e.g. /usr/bin/sh.
    assert.ok(found[0].startsWith(`${child.pid}: `), found[0]);
    assert.ok(found[0].endsWith(`sh -c sleep 30; true ${marker}`), found[0]);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
  assert.deepEqual(processesMentioning(marker), []);
});

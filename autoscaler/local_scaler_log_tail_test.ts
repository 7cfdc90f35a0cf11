import assert from "node:assert/strict";
import { logTail } from "./local_scaler.ts";

async function withLog(text: string, fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "local-scaler-log-tail-" });
  try {
    await Deno.writeTextFile(`${dir}/replica-1.log`, text);
    await fn(`${dir}/replica-1.log`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("logTail() quotes only what was written after the given byte", async () => {
  const earlier = "earlier run: started\nearlier run: fatal\n";
  await withLog(earlier + "this run: started\nthis run: fatal\n", async (path) => {
    assert.deepEqual(await logTail(path, new TextEncoder().encode(earlier).length), [
      "this run: started",
      "this run: fatal",
    ]);
    assert.deepEqual((await logTail(path))?.[0], "earlier run: started");
  });
});

Deno.test("logTail() gives no lines when the process wrote nothing", async () => {
  await withLog("earlier run: fatal\n", async (path) => {
    assert.deepEqual(await logTail(path, 19), []);
  });
});

Deno.test("logTail() keeps the last ten lines and drops a line cut by its window", async () => {
  const earlier = "x".repeat(100) + "\n";
  const lines = Array.from({ length: 400 }, (_, i) => `line ${i} ${"y".repeat(20)}`);
  await withLog(earlier + lines.join("\n") + "\n", async (path) => {
    const tail = await logTail(path, earlier.length);
    assert.deepEqual(tail, lines.slice(-10));
  });
  // A window that starts exactly at this process's first byte cuts nothing.
  await withLog(earlier + "first\nsecond\n", async (path) => {
    assert.deepEqual(await logTail(path, earlier.length), ["first", "second"]);
  });
});

Deno.test("logTail() reads the whole file when it shrank, and nothing without a file", async () => {
  await withLog("after a truncation\n", async (path) => {
    assert.deepEqual(await logTail(path, 10_000), ["after a truncation"]);
  });
  assert.equal(await logTail(undefined), undefined);
  assert.equal(await logTail("/nonexistent-local-scaler/replica-1.log"), undefined);
});

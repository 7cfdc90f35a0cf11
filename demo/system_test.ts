import assert from "node:assert/strict";
import { clearLogs } from "./system.ts";

Deno.test("clearLogs() deletes the earlier run's logs and keeps everything else", async () => {
  const dir = await Deno.makeTempDir({ prefix: "demo-clear-logs-" });
  try {
    await Deno.writeTextFile(`${dir}/autoscaler.log`, "a line of an earlier run\n");
    await Deno.writeTextFile(`${dir}/replica-1.log`, "another\n");
    await Deno.writeTextFile(`${dir}/notes.txt`, "kept\n");
    await Deno.mkdir(`${dir}/old.log`);
    await clearLogs(dir);
    const left = [];
    for await (const entry of Deno.readDir(dir)) left.push(entry.name);
    assert.deepEqual(left.sort(), ["notes.txt", "old.log"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

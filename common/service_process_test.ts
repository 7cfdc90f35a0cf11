import assert from "node:assert/strict";
import { startService } from "./service_process.ts";

// A stand-in service: logs "listening", then one more line, and waits for stdin to close.
const SERVICE = `
console.log(JSON.stringify({ msg: "listening", port: 1234 }));
console.log("still running");
for await (const _ of Deno.stdin.readable) { /* the lifeline */ }
`;

Deno.test("startService() puts the child's output in its log while it runs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "service_process_" });
  const logFile = `${dir}/child.log`;
  const lines: string[] = [];
  const seen = Promise.withResolvers<void>();
  const service = await startService({
    name: "stand-in",
    args: ["eval", SERVICE],
    logFile,
    onLine: (line) => {
      lines.push(line);
      if (line === "still running") seen.resolve();
    },
  });
  try {
    assert.equal(service.port, 1234);
    await seen.promise;
    // Read while the child is alive: someone chasing a problem reads it now,
    // and a log held back until the child exits is lost when this process dies.
    const text = await Deno.readTextFile(logFile);
    assert.match(text, /"listening"/);
    assert.match(text, /still running/);
  } finally {
    await service.stop(5_000);
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * `deno task bench:soak`: thousands of good and bad uploads mixed, sent to one
 * replica process, with its resident memory before, at the peak and after.
 * Every answer is checked against the contract as it comes back.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { sharedImages } from "@common/shared_images.ts";
import { startService } from "@common/service_process.ts";
import { REPLICA_ENV } from "@common/replica_env.ts";
import { waitForHttp } from "@common/wait_http.ts";
import { writeLine } from "@common/write_line.ts";
import { mixedUploads, soak } from "./mixed_inputs.ts";
import { processMemoryMb } from "./stats.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const print = (line: string) => writeLine(Deno.stdout, line);
const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    requests: { type: "string", default: "3000" },
    concurrency: { type: "string", default: "8" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  print(`Usage: deno task bench:soak [--requests N] [--concurrency N] [-- replica flags]`);
  Deno.exit(0);
}
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);

const uploads = await mixedUploads(sharedImages(), requests);
const replica = await startService({
  name: "replica",
  env: { ...REPLICA_ENV },
  args: ["run", "--allow-all", `${ROOT}model/main.ts`, "--port", "0", "--exit-with-parent"]
    .concat(positionals),
});
const url = `http://127.0.0.1:${replica.port}`;
let failed = false;
try {
  await waitForHttp(`${url}/readyz`, { timeoutMs: 60_000 });
  // A short warm-up first, so "before" is a replica that has served, as in production.
  await soak(`${url}/infer`, uploads.slice(0, 50), concurrency);
  const before = processMemoryMb(replica.pid);
  print(`replica pid ${replica.pid}: ${before?.rss.toFixed(0)} MB resident after warm-up`);
  const started = performance.now();
  const tally = await soak(`${url}/infer`, uploads, concurrency, (done) => {
    const now = processMemoryMb(replica.pid);
    print(`  ${done}/${requests} answered, ${now?.rss.toFixed(0)} MB resident`);
  });
  const seconds = (performance.now() - started) / 1000;
  const after = processMemoryMb(replica.pid);
  const health = await fetch(`${url}/healthz`);
  await health.body?.cancel();

  print(`\n${tally.sent} uploads in ${seconds.toFixed(1)} s, by status:`);
  for (const [status, count] of Object.entries(tally.byStatus)) print(`  ${status}: ${count}`);
  print(
    `memory: ${before?.rss.toFixed(0)} MB before, ${after?.peak.toFixed(0)} MB peak, ` +
      `${after?.rss.toFixed(0)} MB after (${
        ((after?.rss ?? 0) - (before?.rss ?? 0)).toFixed(0)
      } MB difference)`,
  );
  print(`/healthz after the soak: ${health.status}`);
  if (tally.violations.length > 0) {
    failed = true;
    print(`\n${tally.violations.length} answers broke the contract:`);
    for (const violation of tally.violations.slice(0, 20)) print(`  ${violation}`);
  } else {
    print("every answer kept the contract (200 with predictions, 4xx JSON refusal, or 503)");
  }
} finally {
  await replica.stop();
}
Deno.exit(failed ? 1 : 0);

/**
 * Prometheus started for a local run stops with its parent, even when the
 * parent is killed with SIGKILL and has no chance to clean up.
 */

import assert from "node:assert/strict";
import { followLines } from "@common/lines.ts";
import { findExecutable } from "@common/find_executable.ts";

const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const STARTER = `
import { freePort } from "${new URL("../common/free_port.ts", import.meta.url)}";
import { startPrometheus } from "${new URL("./prometheus_server.ts", import.meta.url)}";
const dir = Deno.args[0];
await Deno.writeTextFile(dir + "/prometheus.yml", "global:\\n  scrape_interval: 1s\\n");
const server = await startPrometheus({
  configFile: dir + "/prometheus.yml",
  dataDir: dir + "/data",
  port: freePort(),
  logFile: dir + "/prometheus.log",
});
console.log(JSON.stringify({ url: server.url }));
await new Promise(() => {});
`;

function prometheusUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      if (cmdline.includes(dir) && cmdline.startsWith(findExecutable("prometheus")!)) {
        pids.push(Number(entry.name));
      }
    } catch {
      // Gone while we looked.
    }
  }
  return pids;
}

Deno.test({
  name: "Prometheus stops when the process that started it is killed with SIGKILL",
  ignore: findExecutable("prometheus") === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "prometheus-tether-" });
    const script = `${dir}/starter.ts`;
    await Deno.writeTextFile(script, STARTER);
    const parent = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--config", CONFIG, script, dir],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    try {
      const ready = Promise.withResolvers<string>();
      const reading = followLines(parent.stdout, (line) => {
        if (line.startsWith("{")) ready.resolve(JSON.parse(line).url);
      });
      reading.then(() => ready.reject(new Error("the starter exited before Prometheus was ready")));
      const url = await ready.promise;
      assert.equal((await fetch(`${url}/-/ready`)).status, 200);
      assert.equal(prometheusUsing(dir).length, 1);

      parent.kill("SIGKILL");
      await parent.status;
      await reading;
      // The tether sees its stdin close and stops Prometheus; wait for that.
      const deadline = Date.now() + 20_000;
      while (prometheusUsing(dir).length > 0) {
        assert.ok(Date.now() < deadline, "Prometheus outlived its parent by 20 s");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await assert.rejects(fetch(`${url}/-/ready`));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

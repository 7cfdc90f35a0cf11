/**
 * `deno task demo`: the whole system on this machine under a load that rises
 * and falls, printed second by second, ending with a summary.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { createLogger } from "@common/log.ts";
import { findSharedImages } from "@common/shared_images.ts";
import { settingsOrExit } from "@common/settings.ts";
import { onShutdown } from "@common/shutdown.ts";
import { loadImages } from "../loadtest/images.ts";
import { formatProgress } from "../loadtest/format.ts";
import { runLoad } from "../loadtest/run_load.ts";
import { parseConfig, USAGE } from "./config.ts";
import { chooseModel } from "./model_choice.ts";
import { formatDecision, formatDemoSummary } from "./report.ts";
import { startSystem, type System } from "./system.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const shared = findSharedImages();

// deno-lint-ignore no-console
const print = (line: string) => console.log(line);
const config = settingsOrExit(
  Deno.args,
  USAGE,
  () =>
    parseConfig(Deno.args, shared === undefined ? `${ROOT}images` : `${shared}/imagenet-sample`),
);
const logger = createLogger({ component: "demo", level: "warn" });
const stopping = new AbortController();
let system: System | undefined;

onShutdown((cause) => {
  print(`\n${cause}: stopping everything the demo started ...`);
  stopping.abort();
});

const model = await chooseModel({ synthetic: config.synthetic, logger });
if (model.weights === "synthetic") {
  print("Serving SYNTHETIC ResNet18 weights: same cost as the real model, meaningless labels.");
  print("For real predictions run `deno task model:fetch` where the internet is reachable.");
} else {
  print(`Serving the real ResNet18 weights from ${model.path}`);
}

let exitCode = 0;
let ups = 0;
let downs = 0;
// Printed after everything stopped, so no late log line trails below it.
let closing: string | undefined;
try {
  print("Starting Prometheus, the dispatcher, the autoscaler and the first replica ...");
  system = await startSystem({
    runDir: `${ROOT}run`,
    modelPath: model.path,
    prometheusBin: config.prometheusBin,
    autoscalerArgs: ["--target-rate", config.targetRate, "--max", config.max],
    onDecision: (decision) => {
      if (decision.applied !== true) return;
      if (decision.direction === "up") ups++;
      if (decision.direction === "down") downs++;
      print(formatDecision(decision));
    },
    logger,
  });
  print(`Prometheus ${system.prometheusUrl}  dispatcher ${system.dispatcherUrl}  logs run/logs/`);
  const { images } = await loadImages(config.imageDir);
  print(`Sending ${images.length} photos from ${config.imageDir}`);

  let low = 1;
  let high = 1;
  const summary = await runLoad({
    url: `${system.dispatcherUrl}/classify`,
    images,
    steps: config.steps,
    replicas: () => system!.replicas(),
    signal: stopping.signal,
    onProgress: (second) => {
      if (second.replicas !== null) {
        low = Math.min(low, second.replicas);
        high = Math.max(high, second.replicas);
      }
      print(formatProgress(second));
    },
  });

  if (!stopping.signal.aborted) {
    print(`Load finished; waiting up to ${config.cooldownSeconds} s for the fleet to shrink ...`);
    const deadline = Date.now() + config.cooldownSeconds * 1000;
    const started = Date.now();
    let replicas = await system.replicas();
    // The decisions print themselves as they are applied.
    while (replicas > 1 && Date.now() < deadline && !stopping.signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      replicas = await system.replicas();
    }
    const after = Math.round((Date.now() - started) / 1000);
    print(
      replicas === 1
        ? `Fleet back to 1 replica ${after} s after the load.`
        : `Still ${replicas} replicas ${after} s after the load.`,
    );
    low = Math.min(low, replicas);
  }
  await system.stop();
  closing = formatDemoSummary(summary, { low, high, ups, downs, weights: model.weights });
  if (summary.failed > 0) exitCode = 1;
} catch (error) {
  if (stopping.signal.aborted) print("Stopped before the load began.");
  else print(`Demo failed: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  await system?.stop();
}
if (closing) print(closing);
if (stopping.signal.aborted) exitCode = 130;
Deno.exit(exitCode);

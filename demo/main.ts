/**
 * `deno task demo`: the whole system on this machine under a load that rises
 * and falls, printed second by second, ending with a summary.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { createLogger } from "@common/log.ts";
import { findSharedImages } from "@common/shared_images.ts";
import { onShutdown } from "@common/shutdown.ts";
import { loadImages } from "../loadtest/images.ts";
import { parseSteps } from "../loadtest/schedule.ts";
import { formatProgress } from "../loadtest/format.ts";
import { runLoad } from "../loadtest/run_load.ts";
import { chooseModel } from "./model_choice.ts";
import { formatDecision, formatDemoSummary } from "./report.ts";
import { startSystem, type System } from "./system.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const shared = findSharedImages();

const USAGE = `Usage: deno task demo [flags]

  --steps LIST         load profile, rate:seconds pairs [2:10,6:10,12:15,18:15,8:10,2:10]
  --target-rate N      requests/s per replica the autoscaler aims for [5]
  --max N              most replicas [4]
  --images DIR         photos to send [$SHARED_IMAGES or ../shared/images: imagenet-sample/,
                       else images/]
  --synthetic          skip the download attempt, serve synthetic weights
  --prometheus-bin P   Prometheus executable [prometheus]
  --cooldown SECONDS   how long to wait for the fleet to shrink after the load [90]`;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    steps: { type: "string", default: "2:10,6:10,12:15,18:15,8:10,2:10" },
    "target-rate": { type: "string", default: "5" },
    max: { type: "string", default: "4" },
    images: { type: "string" },
    synthetic: { type: "boolean", default: false },
    "prometheus-bin": { type: "string" },
    cooldown: { type: "string", default: "90" },
    help: { type: "boolean", short: "h", default: false },
  },
});
// deno-lint-ignore no-console
const print = (line: string) => console.log(line);
if (values.help) {
  print(USAGE);
  Deno.exit(0);
}

const logger = createLogger({ component: "demo", level: "warn" });
const steps = parseSteps(values.steps);
const cooldownSeconds = Number(values.cooldown);
const imageDir = values.images ??
  (shared === undefined ? `${ROOT}images` : `${shared}/imagenet-sample`);
const stopping = new AbortController();
let system: System | undefined;

onShutdown((cause) => {
  print(`\n${cause}: stopping everything the demo started ...`);
  stopping.abort();
});

const model = await chooseModel({ synthetic: values.synthetic, logger });
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
    prometheusBin: values["prometheus-bin"],
    autoscalerArgs: ["--target-rate", values["target-rate"], "--max", values.max],
    onDecision: (decision) => {
      if (decision.applied !== true) return;
      if (decision.direction === "up") ups++;
      if (decision.direction === "down") downs++;
      print(formatDecision(decision));
    },
    logger,
  });
  print(`Prometheus ${system.prometheusUrl}  dispatcher ${system.dispatcherUrl}  logs run/logs/`);
  const { images } = await loadImages(imageDir);
  print(`Sending ${images.length} photos from ${imageDir}`);

  let low = 1;
  let high = 1;
  const summary = await runLoad({
    url: `${system.dispatcherUrl}/classify`,
    images,
    steps,
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
    print(`Load finished; waiting up to ${cooldownSeconds} s for the fleet to shrink ...`);
    const deadline = Date.now() + cooldownSeconds * 1000;
    const started = Date.now();
    let replicas = await system.replicas();
    while (replicas > 1 && Date.now() < deadline && !stopping.signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const now = await system.replicas();
      if (now !== replicas) {
        print(`  [+${Math.round((Date.now() - started) / 1000)} s after the load] replicas ${now}`);
      }
      replicas = now;
    }
    low = Math.min(low, replicas);
  }
  await system.stop();
  closing = formatDemoSummary(summary, { low, high, ups, downs, weights: model.weights });
  if (summary.failed > 0) exitCode = 1;
} catch (error) {
  print(`Demo failed: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  await system?.stop();
}
if (closing) print(closing);
if (stopping.signal.aborted) exitCode = 130;
Deno.exit(exitCode);

/**
 * Entry point of `deno task autoscale`: reads settings, starts the minimum
 * fleet, then decides every interval until told to stop.
 *
 * @module
 */

import { explainListenError } from "@common/listen_error.ts";
import { createLogger } from "@common/log.ts";
import { settingsOrExit } from "@common/settings.ts";
import { onShutdown } from "@common/shutdown.ts";
import { parseConfig, USAGE } from "./config.ts";
import { createPolicy } from "./create_policy.ts";
import { Fallback } from "./fallback.ts";
import { LocalScaler } from "./local_scaler.ts";
import { createStabilizer, runLoop } from "./loop.ts";
import { createAutoscalerMetrics } from "./metrics.ts";
import { PrometheusClient } from "./prometheus_client.ts";

const config = settingsOrExit(Deno.args, USAGE, () => parseConfig(Deno.args, Deno.env.toObject()));

const logger = createLogger({ component: "autoscaler", level: config.logLevel });
const metrics = createAutoscalerMetrics();
const stopped = new AbortController();

let server: Deno.HttpServer;
try {
  server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: ({ port }) => {
      logger.info("listening", { port, url: `http://${config.host}:${port}/metrics` });
    },
  }, serveMetrics);
} catch (error) {
  logger.error(explainListenError(error, config.host, config.port));
  Deno.exit(1);
}

async function serveMetrics(request: Request): Promise<Response> {
  const path = new URL(request.url).pathname;
  if (path === "/metrics") {
    return new Response(await metrics.registry.metrics(), {
      headers: { "content-type": metrics.registry.contentType },
    });
  }
  if (path === "/healthz") return Response.json({ status: "ok" });
  return Response.json({ error: "not_found", message: "Try /metrics or /healthz" }, {
    status: 404,
  });
}

const replicaArgs = ["--threads", String(config.replicaThreads)];
if (config.modelPath) replicaArgs.push("--model", config.modelPath);
const scaler = new LocalScaler({
  targetsFile: config.targetsFile,
  logDir: config.logDir,
  replicaArgs,
  logger,
});

onShutdown((cause) => {
  logger.info("stopping", { cause });
  stopped.abort();
}, { exitWithParent: config.exitWithParent });

logger.info("starting", {
  policy: config.policy,
  targetRate: config.policy === "rate" ? config.targetRate : undefined,
  window: config.window,
  min: config.min,
  max: config.max,
  interval: config.intervalSeconds,
  scaler: scaler.kind,
  prometheus: config.prometheusUrl,
  dryRun: config.dryRun,
});
await scaler.init();
if (!config.dryRun && !stopped.signal.aborted) {
  await scaler.scaleTo(config.min);
  logger.info("minimum fleet ready", { replicas: await scaler.current() });
}

const { policy, scaleDownWindowMs } = createPolicy(config);
await runLoop(
  {
    policy,
    source: new PrometheusClient({ url: config.prometheusUrl }),
    scaler,
    options: {
      min: config.min,
      max: config.max,
      scaleDownWindowMs,
      dryRun: config.dryRun,
    },
    stabilizer: createStabilizer({ min: config.min, max: config.max, scaleDownWindowMs }),
    metrics,
    logger,
    fallback: config.fallbackReplicas === undefined ? undefined : new Fallback({
      replicas: config.fallbackReplicas,
      afterFailures: config.fallbackAfter,
    }),
  },
  config.intervalSeconds * 1000,
  stopped.signal,
);

await scaler.close();
await server.shutdown();
logger.info("stopped");
Deno.exit(0);

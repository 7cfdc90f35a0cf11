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
import { defaultNamespace, loadKubeConfig } from "@common/kube_config.ts";
import { KubernetesScaler } from "./kubernetes_scaler.ts";
import { LocalScaler } from "./local_scaler.ts";
import type { Scaler } from "./scaler.ts";
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

let scaler: Scaler;
let localScaler: LocalScaler | undefined;
if (config.scaler === "kubernetes") {
  const kubeOptions = { kubeconfig: config.kubeconfig, context: config.context };
  let kubeConfig;
  try {
    kubeConfig = loadKubeConfig(kubeOptions);
  } catch (error) {
    logger.error((error as Error).message);
    Deno.exit(1);
  }
  scaler = new KubernetesScaler({
    kubeConfig,
    reloadKubeConfig: () => loadKubeConfig(kubeOptions),
    namespace: config.namespace ?? defaultNamespace(kubeConfig),
    deployment: config.deployment,
    logger,
  });
} else {
  const replicaArgs = ["--threads", String(config.replicaThreads)];
  if (config.modelPath) replicaArgs.push("--model", config.modelPath);
  localScaler = new LocalScaler({
    targetsFile: config.targetsFile,
    logDir: config.logDir,
    replicaArgs,
    logger,
  });
  scaler = localScaler;
}

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
// Only the local fleet starts empty. A Deployment already runs its replicas,
// and a restarted autoscaler must not shrink it to --min before deciding.
// A dry run writes nothing, not even the empty target file that init()
// publishes: next to a live system it would unpublish every replica.
if (localScaler && !config.dryRun) {
  await localScaler.init();
  if (!stopped.signal.aborted) {
    await localScaler.scaleTo(config.min);
    logger.info("minimum fleet ready", { replicas: await localScaler.current() });
  }
}

const { policy, scaleDownWindowMs, tolerance } = createPolicy(config);
await runLoop(
  {
    policy,
    source: new PrometheusClient({ url: config.prometheusUrl }),
    scaler,
    options: {
      min: config.min,
      max: config.max,
      scaleDownWindowMs,
      tolerance,
      maxStep: config.maxStep,
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

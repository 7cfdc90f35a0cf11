/**
 * The autoscaler's settings: defaults in one place, parsed from flags and
 * environment variables, every field validated at start-up.
 *
 * @module
 */

import type { LogLevel } from "@common/log.ts";
import { ConfigError, logLevelSetting, parseFlags } from "@common/settings.ts";

export { ConfigError };
import { durationSeconds } from "@common/promql.ts";

/** Validated settings of one autoscaler process. */
export interface AutoscalerConfig {
  prometheusUrl: string;
  policy: PolicyName;
  /** Requests per second per replica (rate policy). */
  targetRate: number;
  /** Most replicas added or removed per decision; undefined for no limit. */
  maxStep?: number;
  /** hpa: target average per replica, the metric's PromQL (CPU when absent), tolerance. */
  hpaTarget: number;
  hpaMetric?: string;
  tolerance: number;
  hpaScaleUpWindowSeconds: number;
  hpaScaleDownWindowSeconds: number;
  /** concurrency: in-flight requests per replica, utilization, windows. */
  targetConcurrency: number;
  targetUtilization: number;
  stableWindowSeconds: number;
  panicWindowSeconds: number;
  /** latency: the p95 SLO and the calm time before shrinking. */
  sloSeconds: number;
  latencyStabilizationSeconds: number;
  /** PromQL rate window, e.g. `10s`. */
  window: string;
  /** Prometheus scrape interval, seconds; the window must cover four of them. */
  scrapeIntervalSeconds: number;
  intervalSeconds: number;
  min: number;
  max: number;
  scaleDownWindowSeconds: number;
  /** Replicas to go to after `fallbackAfter` readings without data; none when undefined. */
  fallbackReplicas?: number;
  fallbackAfter: number;
  scaler: "local" | "kubernetes";
  /** kubernetes: the Deployment, its namespace (the context's when absent), kubeconfig, context. */
  deployment: string;
  namespace?: string;
  kubeconfig?: string;
  context?: string;
  targetsFile: string;
  logDir?: string;
  modelPath?: string;
  replicaThreads: number;
  host: string;
  port: number;
  dryRun: boolean;
  exitWithParent: boolean;
  logLevel: LogLevel;
}

/** The policies `--policy` selects. */
export const POLICIES = ["rate", "hpa", "concurrency", "latency"] as const;

/** One of {@linkcode POLICIES}. */
export type PolicyName = typeof POLICIES[number];

/** Defaults, chosen for one 2-core machine running the demo. */
export const DEFAULTS = {
  prometheusUrl: "http://127.0.0.1:9090",
  policy: "rate",
  targetRate: "5",
  hpaTarget: "0.6",
  tolerance: "0.1",
  hpaScaleUpWindow: "0",
  hpaScaleDownWindow: "300",
  targetConcurrency: "2",
  targetUtilization: "0.7",
  stableWindow: "60",
  panicWindow: "6",
  sloMs: "200",
  latencyStabilization: "60",
  window: "10s",
  scrapeInterval: "1s",
  interval: "2",
  min: "1",
  max: "4",
  scaleDownWindow: "30",
  fallbackAfter: "3",
  scaler: "local",
  deployment: "resnet-model",
  targetsFile: "run/targets/model.json",
  replicaThreads: "1",
  host: "127.0.0.1",
  port: "9102",
  logLevel: "info",
} as const;

/** Usage text printed by `--help`. */
export const USAGE = `Usage: deno task autoscale [flags]

  --prometheus URL        Prometheus base URL (env PROMETHEUS_URL) [${DEFAULTS.prometheusUrl}]
  --policy NAME           rate, hpa, concurrency or latency [${DEFAULTS.policy}]
  --target-rate N         rate: requests/s one replica should carry [${DEFAULTS.targetRate}]
  --hpa-target N          hpa: target average per replica [${DEFAULTS.hpaTarget}] (CPU cores)
  --hpa-metric PROMQL     hpa: per-replica series to average [CPU from process metrics]
  --tolerance N           no change while the change is at most this share of the fleet
                          (hpa: of its metric, |metric/target - 1|) [${DEFAULTS.tolerance}]
  --max-step N            most replicas added or removed per decision [unlimited]
  --hpa-scale-up-window S, --hpa-scale-down-window S
                          hpa: stabilization windows, seconds
                          [${DEFAULTS.hpaScaleUpWindow}, ${DEFAULTS.hpaScaleDownWindow}]
  --target-concurrency N  concurrency: in-flight requests per replica
                          [${DEFAULTS.targetConcurrency}]
  --target-utilization N  concurrency: share of the target to aim for
                          [${DEFAULTS.targetUtilization}]
  --stable-window S, --panic-window S
                          concurrency: averaging windows, seconds
                          [${DEFAULTS.stableWindow}, ${DEFAULTS.panicWindow}]
  --slo-ms N              latency: p95 to stay under, ms [${DEFAULTS.sloMs}]
  --latency-stabilization S
                          latency: calm seconds before one replica goes
                          [${DEFAULTS.latencyStabilization}]
  --window DURATION       PromQL rate window, >= 4 scrape intervals [${DEFAULTS.window}]
  --scrape-interval D     Prometheus scrape interval [${DEFAULTS.scrapeInterval}]
  --interval SECONDS      time between decisions [${DEFAULTS.interval}]
  --min N, --max N        replica bounds [${DEFAULTS.min}, ${DEFAULTS.max}]
  --scale-down-window S   rate: seconds a higher recommendation blocks a scale-down
                          [${DEFAULTS.scaleDownWindow}]
  --fallback-replicas N   after --fallback-after readings without data in a row, go to
                          N replicas (never fewer than now) [none: hold]
  --fallback-after N      readings without data before the fallback [${DEFAULTS.fallbackAfter}]
  --scaler NAME           local (replicas as child processes) or kubernetes (a
                          Deployment's scale subresource) [${DEFAULTS.scaler}]
  --deployment NAME       kubernetes: the Deployment to scale [${DEFAULTS.deployment}]
  --namespace NS          kubernetes: its namespace [the context's, or the pod's own]
  --kubeconfig FILE       kubernetes: [$KUBECONFIG, ~/.kube/config, or in-cluster]
  --context NAME          kubernetes: kubeconfig context [the file's current one]
  --targets FILE          file_sd target file the local scaler writes [${DEFAULTS.targetsFile}]
  --log-dir DIR           one log file per local replica (default: discard)
  --model PATH            model file for local replicas (default: the model's own)
  --replica-threads N     ONNX Runtime threads per local replica [${DEFAULTS.replicaThreads}]
  --host H, --port P      where /metrics listens; port 0 = any [${DEFAULTS.host}:${DEFAULTS.port}]
  --dry-run               decide and log, change nothing
  --exit-with-parent      stop when stdin closes (set by the demo)
  env LOG_LEVEL           debug, info, warn, error [${DEFAULTS.logLevel}]`;

/** Every flag, as node's parser takes them. */
const FLAGS = {
  prometheus: { type: "string" },
  policy: { type: "string" },
  "target-rate": { type: "string" },
  "hpa-target": { type: "string" },
  "hpa-metric": { type: "string" },
  tolerance: { type: "string" },
  "max-step": { type: "string" },
  "hpa-scale-up-window": { type: "string" },
  "hpa-scale-down-window": { type: "string" },
  "target-concurrency": { type: "string" },
  "target-utilization": { type: "string" },
  "stable-window": { type: "string" },
  "panic-window": { type: "string" },
  "slo-ms": { type: "string" },
  "latency-stabilization": { type: "string" },
  window: { type: "string" },
  "scrape-interval": { type: "string" },
  interval: { type: "string" },
  min: { type: "string" },
  max: { type: "string" },
  "scale-down-window": { type: "string" },
  "fallback-replicas": { type: "string" },
  "fallback-after": { type: "string" },
  scaler: { type: "string" },
  deployment: { type: "string" },
  namespace: { type: "string" },
  kubeconfig: { type: "string" },
  context: { type: "string" },
  targets: { type: "string" },
  "log-dir": { type: "string" },
  model: { type: "string" },
  "replica-threads": { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  "dry-run": { type: "boolean", default: false },
  "exit-with-parent": { type: "boolean", default: false },
} as const;

/**
 * Parses flags and environment into settings.
 *
 * @throws {ConfigError} listing every invalid setting
 */
export function parseConfig(
  args: string[],
  env: Record<string, string | undefined>,
): AutoscalerConfig {
  const values = parseFlags("autoscaler", args, FLAGS);
  const problems: string[] = [];
  const number = (flag: string, text: string, check: (n: number) => boolean, rule: string) => {
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value) || !check(value)) {
      problems.push(`--${flag} must be ${rule}, got "${text}"`);
    }
    return value;
  };
  const integer = (n: number) => Number.isInteger(n);

  const prometheusUrl = values.prometheus ?? env.PROMETHEUS_URL ?? DEFAULTS.prometheusUrl;
  if (!/^https?:\/\/[^/]+/.test(prometheusUrl)) {
    problems.push(`--prometheus must be an http(s) URL, got "${prometheusUrl}"`);
  }
  const policy = (values.policy ?? DEFAULTS.policy) as PolicyName;
  if (!POLICIES.includes(policy)) {
    problems.push(`--policy must be one of: ${POLICIES.join(", ")}; got "${policy}"`);
  }
  const positive = (flag: string, fallback: string) =>
    number(flag, values[flag as keyof typeof values] as string ?? fallback, (n) => n > 0, "> 0");
  const seconds = (flag: string, fallback: string) =>
    number(
      flag,
      values[flag as keyof typeof values] as string ?? fallback,
      (n) => n >= 0 && n <= 3600,
      "seconds from 0 to 3600",
    );
  const hpaTarget = positive("hpa-target", DEFAULTS.hpaTarget);
  const tolerance = number(
    "tolerance",
    values.tolerance ?? DEFAULTS.tolerance,
    (n) => n >= 0 && n < 1,
    "a number from 0 to below 1",
  );
  const maxStep = values["max-step"] === undefined ? undefined : number(
    "max-step",
    values["max-step"],
    (n) => integer(n) && n >= 1,
    "an integer >= 1",
  );
  const hpaScaleUpWindowSeconds = seconds("hpa-scale-up-window", DEFAULTS.hpaScaleUpWindow);
  const hpaScaleDownWindowSeconds = seconds("hpa-scale-down-window", DEFAULTS.hpaScaleDownWindow);
  const targetConcurrency = positive("target-concurrency", DEFAULTS.targetConcurrency);
  const targetUtilization = number(
    "target-utilization",
    values["target-utilization"] ?? DEFAULTS.targetUtilization,
    (n) => n > 0 && n <= 1,
    "a share above 0, at most 1",
  );
  const stableWindowSeconds = seconds("stable-window", DEFAULTS.stableWindow);
  const panicWindowSeconds = seconds("panic-window", DEFAULTS.panicWindow);
  if (policy === "concurrency" && panicWindowSeconds < 4 * scrapeIntervalSecondsEarly(values)) {
    problems.push(
      `--panic-window must cover at least 4 scrape intervals so its average survives a ` +
        `missed scrape, got ${panicWindowSeconds} s`,
    );
  }
  if (panicWindowSeconds > stableWindowSeconds) {
    problems.push(`--panic-window must not exceed --stable-window`);
  }
  const sloSeconds = positive("slo-ms", DEFAULTS.sloMs) / 1000;
  const latencyStabilizationSeconds = seconds(
    "latency-stabilization",
    DEFAULTS.latencyStabilization,
  );
  const scaler = (values.scaler ?? DEFAULTS.scaler) as AutoscalerConfig["scaler"];
  if (scaler !== "local" && scaler !== "kubernetes") {
    problems.push(`--scaler must be one of: local, kubernetes; got "${scaler}"`);
  }
  const deployment = values.deployment ?? DEFAULTS.deployment;
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(deployment)) {
    problems.push(`--deployment must be a Kubernetes object name, got "${deployment}"`);
  }

  const targetRate = number(
    "target-rate",
    values["target-rate"] ?? DEFAULTS.targetRate,
    (n) => n > 0,
    "a number > 0",
  );
  const intervalSeconds = number(
    "interval",
    values.interval ?? DEFAULTS.interval,
    (n) => n >= 0.1 && n <= 3600,
    "seconds between 0.1 and 3600",
  );
  const min = number(
    "min",
    values.min ?? DEFAULTS.min,
    (n) => integer(n) && n >= 1,
    "an integer >= 1",
  );
  const max = number(
    "max",
    values.max ?? DEFAULTS.max,
    (n) => integer(n) && n >= 1 && n <= 64,
    "an integer from 1 to 64",
  );
  if (min > max) problems.push(`--min (${min}) must not exceed --max (${max})`);
  const scaleDownWindowSeconds = number(
    "scale-down-window",
    values["scale-down-window"] ?? DEFAULTS.scaleDownWindow,
    (n) => n >= 0 && n <= 3600,
    "seconds from 0 to 3600",
  );
  const fallbackReplicas = values["fallback-replicas"] === undefined ? undefined : number(
    "fallback-replicas",
    values["fallback-replicas"],
    (n) => integer(n) && n >= 1 && n <= 64,
    "an integer from 1 to 64",
  );
  const fallbackAfter = number(
    "fallback-after",
    values["fallback-after"] ?? DEFAULTS.fallbackAfter,
    (n) => integer(n) && n >= 1 && n <= 1000,
    "an integer from 1 to 1000",
  );
  if (fallbackReplicas !== undefined && (fallbackReplicas < min || fallbackReplicas > max)) {
    problems.push(`--fallback-replicas (${fallbackReplicas}) must lie within --min and --max`);
  }
  const replicaThreads = number(
    "replica-threads",
    values["replica-threads"] ?? DEFAULTS.replicaThreads,
    (n) => integer(n) && n >= 1 && n <= 64,
    "an integer from 1 to 64",
  );
  const port = number(
    "port",
    values.port ?? DEFAULTS.port,
    (n) => integer(n) && n >= 0 && n <= 65535,
    "an integer from 0 to 65535",
  );

  const window = values.window ?? DEFAULTS.window;
  const scrape = values["scrape-interval"] ?? DEFAULTS.scrapeInterval;
  let windowSeconds = NaN;
  let scrapeIntervalSeconds = NaN;
  try {
    windowSeconds = durationSeconds(window);
  } catch (error) {
    problems.push(`--window: ${(error as Error).message}`);
  }
  try {
    scrapeIntervalSeconds = durationSeconds(scrape);
  } catch (error) {
    problems.push(`--scrape-interval: ${(error as Error).message}`);
  }
  if (windowSeconds < 4 * scrapeIntervalSeconds) {
    problems.push(
      `--window must cover at least 4 scrape intervals (4 x ${scrape} = ` +
        `${4 * scrapeIntervalSeconds}s) so rate() survives a missed scrape, got "${window}"`,
    );
  }

  const logLevel: LogLevel = logLevelSetting(env.LOG_LEVEL, problems);

  if (problems.length > 0) throw new ConfigError("autoscaler", problems);
  return {
    prometheusUrl,
    policy,
    maxStep,
    hpaTarget,
    hpaMetric: values["hpa-metric"],
    tolerance,
    hpaScaleUpWindowSeconds,
    hpaScaleDownWindowSeconds,
    targetConcurrency,
    targetUtilization,
    stableWindowSeconds,
    panicWindowSeconds,
    sloSeconds,
    latencyStabilizationSeconds,
    targetRate,
    window,
    scrapeIntervalSeconds,
    intervalSeconds,
    min,
    max,
    scaleDownWindowSeconds,
    fallbackReplicas,
    fallbackAfter,
    scaler,
    deployment,
    namespace: values.namespace,
    kubeconfig: values.kubeconfig,
    context: values.context,
    targetsFile: values.targets ?? DEFAULTS.targetsFile,
    logDir: values["log-dir"],
    modelPath: values.model,
    replicaThreads,
    host: values.host ?? DEFAULTS.host,
    port,
    dryRun: values["dry-run"] ?? false,
    exitWithParent: values["exit-with-parent"] ?? false,
    logLevel,
  };
}

// The scrape interval as given, read early for the window checks; an
// unparsable one is reported where it is parsed, so this falls back to 1 s.
function scrapeIntervalSecondsEarly(values: { "scrape-interval"?: string }): number {
  try {
    return durationSeconds(values["scrape-interval"] ?? DEFAULTS.scrapeInterval);
  } catch {
    return 1;
  }
}

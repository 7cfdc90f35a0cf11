/**
 * The dispatcher's settings: defaults in one place, parsed from flags and
 * environment variables, every field validated at start-up.
 *
 * @module
 */

import type { LogLevel } from "@common/log.ts";
import { ConfigError, logLevelSetting, parseFlags } from "@common/settings.ts";

export { ConfigError };

/** Where the dispatcher learns its replicas from. */
export const DISCOVERY_KINDS = ["file", "kubernetes"] as const;

/** One way of learning the replicas. */
export type DiscoveryKind = typeof DISCOVERY_KINDS[number];

/** Settings of `--discovery kubernetes`. */
export interface KubernetesDiscoveryConfig {
  /** Namespace of the Service; undefined means the kubeconfig context's (or the pod's) own. */
  namespace?: string;
  /** Service whose EndpointSlices list the replicas. */
  service: string;
  /** Service port to send requests to; undefined when the Service has a single port. */
  portName?: string;
  /** A kubeconfig file; undefined: $KUBECONFIG, ~/.kube/config or the pod's account. */
  kubeconfig?: string;
  /** Kubeconfig context to use instead of the file's current one. */
  context?: string;
}

/** Validated settings of one dispatcher process. */
export interface DispatcherConfig {
  /** Address to listen on. */
  host: string;
  /** TCP port; 0 lets the kernel pick one, announced in the "listening" log line. */
  port: number;
  /** How replicas are found: a `file_sd` file, or a Service's EndpointSlices. */
  discovery: DiscoveryKind;
  /** Prometheus `file_sd` JSON file listing the replicas (file discovery). */
  targetsFile: string;
  /** Set exactly when `discovery` is `kubernetes`. */
  kubernetes?: KubernetesDiscoveryConfig;
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: number;
  /** Bytes of request bodies held at once before new uploads get 503. */
  maxBufferedBytes: number;
  /** How long a whole upload may take to arrive before 408, in milliseconds. */
  bodyTimeoutMs: number;
  /** Extra attempts on other replicas after the first one failed. */
  retries: number;
  /** How long one attempt at a replica may take, in milliseconds. */
  upstreamTimeoutMs: number;
  /** Requests at once on one replica; more wait in the queue. */
  maxInFlightPerReplica: number;
  /** Requests that may wait for a free replica; more get 503. */
  queueSize: number;
  /** Longest a request may spend in queue and at replicas, in milliseconds. */
  deadlineMs: number;
  /** Retries allowed per request in the budget's window. */
  retryBudgetRatio: number;
  /** Retries allowed per second whatever the traffic. */
  retryBudgetMinPerSecond: number;
  /** Failures in a row that eject a replica. */
  ejectAfter: number;
  /** Length of a first ejection, in milliseconds; doubled on each further one. */
  ejectBaseMs: number;
  /** Longest ejection, in milliseconds. */
  ejectMaxMs: number;
  /** How long an async job's result is kept after it finished, in milliseconds. */
  resultTtlMs: number;
  /** Async jobs held at once, pending and finished. */
  maxResults: number;
  /**
   * How long an async job may stay pending, in milliseconds. It is also that
   * job's dispatch deadline, in place of `deadlineMs`: nobody holds a
   * connection open for it, so it may wait longer for a replica.
   */
  pendingTimeoutMs: number;
  /** Stop when stdin reaches end of file. */
  exitWithParent: boolean;
  logLevel: LogLevel;
}

/** Defaults, as users would type them. */
export const DEFAULTS = {
  host: "127.0.0.1",
  port: "9000",
  discovery: "file",
  targetsFile: "run/targets/model.json",
  maxBodyBytes: String(20 * 1024 * 1024),
  maxBufferedBytes: String(256 * 1024 * 1024),
  bodyTimeout: "30",
  retries: "3",
  upstreamTimeout: "30",
  maxInFlightPerReplica: "4",
  queueSize: "64",
  deadline: "10",
  retryBudgetRatio: "0.2",
  retryBudgetMin: "1",
  ejectAfter: "5",
  ejectTime: "5",
  ejectMaxTime: "60",
  resultTtl: "300",
  maxResults: "10000",
  pendingTimeout: "120",
  logLevel: "info",
} as const;

/** Usage text printed by `--help`. */
export const USAGE = `Usage: deno task dispatcher [flags]

  --host H               address to listen on (env HOST) [${DEFAULTS.host}]
  --port P               port, 0 = any free one (env PORT) [${DEFAULTS.port}]
  --discovery KIND       where replicas come from: file (--targets) or kubernetes
                         (a Service's EndpointSlices) [${DEFAULTS.discovery}]
  --targets FILE         file: file_sd JSON file of replicas (env TARGETS_FILE)
                         [${DEFAULTS.targetsFile}]
  --service NAME         kubernetes: the model's Service (required)
  --namespace NS         kubernetes: its namespace [the context's, or the pod's own]
  --port-name NAME       kubernetes: Service port to use [its only port]
  --kubeconfig FILE      kubernetes: [$KUBECONFIG, ~/.kube/config, or in-cluster]
  --context NAME         kubernetes: kubeconfig context [the file's current one]
  --max-body-bytes N     largest accepted image, bytes [${DEFAULTS.maxBodyBytes}]
  --max-buffered-bytes N bytes of uploads held at once; beyond, 503 + Retry-After
                         [${DEFAULTS.maxBufferedBytes}]
  --body-timeout S       seconds a whole upload may take to arrive; then 408
                         body_timeout [${DEFAULTS.bodyTimeout}]
  --retries N            extra attempts on other replicas [${DEFAULTS.retries}]
  --upstream-timeout S   seconds one attempt may take [${DEFAULTS.upstreamTimeout}]
  --max-in-flight-per-replica N
                         requests at once on one replica; more wait in the queue
                         [${DEFAULTS.maxInFlightPerReplica}]
  --queue-size N         requests that may wait for a free replica; beyond, 503 +
                         Retry-After [${DEFAULTS.queueSize}]
  --deadline S           seconds a request may spend in queue and at replicas;
                         header x-deadline-ms may shorten it; then 504 [${DEFAULTS.deadline}]
  --retry-budget-ratio R retries allowed per request over the last 10 s
                         [${DEFAULTS.retryBudgetRatio}]
  --retry-budget-min N   retries allowed per second on top [${DEFAULTS.retryBudgetMin}]
  --eject-after N        failures in a row that set a replica aside [${DEFAULTS.ejectAfter}]
  --eject-time S         seconds of a first ejection, doubled on each next one
                         [${DEFAULTS.ejectTime}]
  --eject-max-time S     longest ejection, seconds [${DEFAULTS.ejectMaxTime}]
  --result-ttl S         seconds an async result is kept after its job finished
                         [${DEFAULTS.resultTtl}]
  --max-results N        async jobs held at once, pending and finished; beyond,
                         POST /enqueue gets 503 + Retry-After [${DEFAULTS.maxResults}]
  --pending-timeout S    seconds an async job may wait in queue and at replicas
                         (its deadline instead of --deadline); then it fails
                         with 504 [${DEFAULTS.pendingTimeout}]
  --exit-with-parent     stop when stdin closes (set by the demo)
  env LOG_LEVEL          debug, info, warn, error [${DEFAULTS.logLevel}]`;

/** Every flag, as node's parser takes them. */
const FLAGS = {
  host: { type: "string" },
  port: { type: "string" },
  discovery: { type: "string" },
  targets: { type: "string" },
  service: { type: "string" },
  namespace: { type: "string" },
  "port-name": { type: "string" },
  kubeconfig: { type: "string" },
  context: { type: "string" },
  "max-body-bytes": { type: "string" },
  "max-buffered-bytes": { type: "string" },
  "body-timeout": { type: "string" },
  retries: { type: "string" },
  "upstream-timeout": { type: "string" },
  "max-in-flight-per-replica": { type: "string" },
  "queue-size": { type: "string" },
  deadline: { type: "string" },
  "retry-budget-ratio": { type: "string" },
  "retry-budget-min": { type: "string" },
  "eject-after": { type: "string" },
  "eject-time": { type: "string" },
  "eject-max-time": { type: "string" },
  "result-ttl": { type: "string" },
  "max-results": { type: "string" },
  "pending-timeout": { type: "string" },
  "exit-with-parent": { type: "boolean", default: false },
} as const;

/**
 * Parses flags, then environment variables, then defaults into settings.
 *
 * @throws {ConfigError} listing every invalid setting
 */
export function parseConfig(
  args: string[],
  env: Record<string, string | undefined>,
): DispatcherConfig {
  const values = parseFlags("dispatcher", args, FLAGS);
  const problems: string[] = [];
  const number = (name: string, text: string, check: (n: number) => boolean, rule: string) => {
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value) || !check(value)) {
      problems.push(`${name} must be ${rule}, got "${text}"`);
    }
    return value;
  };

  const host = values.host ?? env.HOST ?? DEFAULTS.host;
  if (host.trim() === "") problems.push(`--host must not be empty`);
  const port = number(
    values.port !== undefined || env.PORT === undefined ? "--port" : "PORT",
    values.port ?? env.PORT ?? DEFAULTS.port,
    (n) => Number.isInteger(n) && n >= 0 && n <= 65535,
    "an integer from 0 to 65535",
  );
  const targetsFile = values.targets ?? env.TARGETS_FILE ?? DEFAULTS.targetsFile;
  if (targetsFile.trim() === "") problems.push("--targets must not be empty");
  const { discovery, kubernetes } = discoverySettings(values, problems);
  const maxBodyBytes = number(
    "--max-body-bytes",
    values["max-body-bytes"] ?? DEFAULTS.maxBodyBytes,
    (n) => Number.isInteger(n) && n >= 1 && n <= 1024 ** 3,
    "an integer from 1 to 1073741824 (1 GiB)",
  );
  const maxBufferedBytes = number(
    "--max-buffered-bytes",
    values["max-buffered-bytes"] ?? DEFAULTS.maxBufferedBytes,
    (n) => Number.isInteger(n) && n >= 1 && n <= 64 * 1024 ** 3,
    "an integer from 1 to 68719476736 (64 GiB)",
  );
  const bodyTimeout = number(
    "--body-timeout",
    values["body-timeout"] ?? DEFAULTS.bodyTimeout,
    (n) => n >= 0.1 && n <= 3600,
    "seconds from 0.1 to 3600",
  );
  const retries = number(
    "--retries",
    values.retries ?? DEFAULTS.retries,
    (n) => Number.isInteger(n) && n >= 0 && n <= 20,
    "an integer from 0 to 20",
  );
  const upstreamTimeout = number(
    "--upstream-timeout",
    values["upstream-timeout"] ?? DEFAULTS.upstreamTimeout,
    (n) => n >= 0.1 && n <= 600,
    "seconds from 0.1 to 600",
  );

  const maxInFlightPerReplica = number(
    "--max-in-flight-per-replica",
    values["max-in-flight-per-replica"] ?? DEFAULTS.maxInFlightPerReplica,
    (n) => Number.isInteger(n) && n >= 1 && n <= 1000,
    "an integer from 1 to 1000",
  );
  const queueSize = number(
    "--queue-size",
    values["queue-size"] ?? DEFAULTS.queueSize,
    (n) => Number.isInteger(n) && n >= 0 && n <= 100_000,
    "an integer from 0 to 100000",
  );
  const deadline = number(
    "--deadline",
    values.deadline ?? DEFAULTS.deadline,
    (n) => n >= 0.01 && n <= 600,
    "seconds from 0.01 to 600",
  );
  const retryBudgetRatio = number(
    "--retry-budget-ratio",
    values["retry-budget-ratio"] ?? DEFAULTS.retryBudgetRatio,
    (n) => n >= 0 && n <= 10,
    "a number from 0 to 10",
  );
  const retryBudgetMinPerSecond = number(
    "--retry-budget-min",
    values["retry-budget-min"] ?? DEFAULTS.retryBudgetMin,
    (n) => n >= 0 && n <= 10_000,
    "retries per second from 0 to 10000",
  );
  const ejectAfter = number(
    "--eject-after",
    values["eject-after"] ?? DEFAULTS.ejectAfter,
    (n) => Number.isInteger(n) && n >= 1 && n <= 1000,
    "an integer from 1 to 1000",
  );
  const ejectTime = number(
    "--eject-time",
    values["eject-time"] ?? DEFAULTS.ejectTime,
    (n) => n >= 0 && n <= 3600,
    "seconds from 0 to 3600",
  );
  const ejectMaxTime = number(
    "--eject-max-time",
    values["eject-max-time"] ?? DEFAULTS.ejectMaxTime,
    (n) => n >= 0 && n <= 3600,
    "seconds from 0 to 3600",
  );
  if (ejectMaxTime < ejectTime) {
    problems.push(
      `--eject-max-time must be at least --eject-time (${ejectTime}), got "${ejectMaxTime}"`,
    );
  }

  const resultTtl = number(
    "--result-ttl",
    values["result-ttl"] ?? DEFAULTS.resultTtl,
    (n) => n >= 1 && n <= 86_400,
    "seconds from 1 to 86400",
  );
  const maxResults = number(
    "--max-results",
    values["max-results"] ?? DEFAULTS.maxResults,
    (n) => Number.isInteger(n) && n >= 1 && n <= 1_000_000,
    "an integer from 1 to 1000000",
  );
  const pendingTimeout = number(
    "--pending-timeout",
    values["pending-timeout"] ?? DEFAULTS.pendingTimeout,
    (n) => n >= 0.1 && n <= 3600,
    "seconds from 0.1 to 3600",
  );

  const logLevel: LogLevel = logLevelSetting(env.LOG_LEVEL, problems);

  if (problems.length > 0) throw new ConfigError("dispatcher", problems);
  return {
    host,
    port,
    discovery,
    targetsFile,
    ...(kubernetes ? { kubernetes } : {}),
    maxBodyBytes,
    maxBufferedBytes,
    bodyTimeoutMs: Math.round(bodyTimeout * 1000),
    retries,
    upstreamTimeoutMs: Math.round(upstreamTimeout * 1000),
    maxInFlightPerReplica,
    queueSize,
    deadlineMs: Math.round(deadline * 1000),
    retryBudgetRatio,
    retryBudgetMinPerSecond,
    ejectAfter,
    ejectBaseMs: Math.round(ejectTime * 1000),
    ejectMaxMs: Math.round(ejectMaxTime * 1000),
    resultTtlMs: Math.round(resultTtl * 1000),
    maxResults,
    pendingTimeoutMs: Math.round(pendingTimeout * 1000),
    exitWithParent: values["exit-with-parent"] ?? false,
    logLevel,
  };
}

/** Flags that only `--discovery kubernetes` reads. */
const KUBERNETES_FLAGS = ["service", "namespace", "port-name", "kubeconfig", "context"] as const;

/**
 * Checks the discovery flags together: a flag of the other kind is a
 * mistake worth naming, since it would be silently ignored.
 */
function discoverySettings(
  values: Partial<Record<"discovery" | "targets" | typeof KUBERNETES_FLAGS[number], string>>,
  problems: string[],
): { discovery: DiscoveryKind; kubernetes?: KubernetesDiscoveryConfig } {
  const text = values.discovery ?? DEFAULTS.discovery;
  const discovery = DISCOVERY_KINDS.find((kind) => kind === text);
  if (!discovery) {
    problems.push(`--discovery must be ${DISCOVERY_KINDS.join(" or ")}, got "${text}"`);
    return { discovery: DEFAULTS.discovery };
  }
  if (discovery === "file") {
    for (const flag of KUBERNETES_FLAGS) {
      if (values[flag] === undefined) continue;
      problems.push(`--${flag} needs --discovery kubernetes; drop it or add that flag`);
    }
    return { discovery };
  }

  if (values.targets !== undefined) {
    problems.push("--targets needs --discovery file; drop it or drop --discovery kubernetes");
  }
  for (const flag of KUBERNETES_FLAGS) {
    if (values[flag]?.trim() === "") problems.push(`--${flag} must not be empty`);
  }
  if (values.service === undefined) {
    problems.push("--discovery kubernetes needs --service NAME, the model's Service");
  }
  return {
    discovery,
    kubernetes: {
      service: values.service ?? "",
      namespace: values.namespace,
      portName: values["port-name"],
      kubeconfig: values.kubeconfig,
      context: values.context,
    },
  };
}

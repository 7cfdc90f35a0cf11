/**
 * Starts the replica discovery `--discovery` chose: the `file_sd` target file
 * watcher, or the EndpointSlice watcher of a Kubernetes Service. Both keep the
 * same pool, so the rest of the dispatcher does not know which one runs.
 *
 * @module
 */

import type { Logger } from "@common/log.ts";
import type { DispatcherConfig } from "./config.ts";
import type { EndpointSliceWatcher } from "./endpoint_slice_watcher.ts";
import type { PoolChange, ReplicaPool } from "./replica_pool.ts";
import { TargetWatcher } from "./target_watcher.ts";

/** A running discovery, whichever kind. */
export type Discovery =
  | {
    readonly kind: "file";
    /** What the "listening" log line says about the source. */
    readonly source: { targets: string };
    readonly watcher: TargetWatcher;
    close(): Promise<void>;
  }
  | {
    readonly kind: "kubernetes";
    readonly source: { namespace: string; service: string; portName?: string; server: string };
    readonly watcher: EndpointSliceWatcher;
    close(): Promise<void>;
  };

/** Options of {@linkcode startDiscovery}. */
export interface StartDiscoveryOptions {
  pool: ReplicaPool;
  logger: Logger;
  /** Called after every change of the pool. */
  onChange: (change: PoolChange) => void;
  /** File discovery: fallback re-read interval, in ms. @default 5000 */
  pollIntervalMs?: number;
  /** Kubernetes discovery: environment for the kubeconfig search. @default Deno.env */
  env?: Record<string, string | undefined>;
}

/**
 * Fills the pool once, then follows changes in the background.
 *
 * @throws {Error} when the kubeconfig cannot be loaded or the first list of
 *   EndpointSlices fails; the message says what to check
 */
export async function startDiscovery(
  config: Pick<DispatcherConfig, "discovery" | "targetsFile" | "kubernetes">,
  options: StartDiscoveryOptions,
): Promise<Discovery> {
  const { pool, logger, onChange } = options;
  if (config.discovery === "file") {
    const watcher = new TargetWatcher({
      path: config.targetsFile,
      pool,
      logger,
      pollIntervalMs: options.pollIntervalMs,
      onChange,
    });
    await watcher.start();
    return {
      kind: "file",
      source: { targets: config.targetsFile },
      watcher,
      close: () => watcher.close(),
    };
  }

  const settings = config.kubernetes;
  if (!settings) {
    throw new TypeError("Cannot start Kubernetes discovery: the config has no kubernetes part");
  }
  // Loaded only here: the Kubernetes client is large, slows every start-up and
  // prints a Node deprecation warning, none of which file discovery needs.
  const { defaultNamespace, loadKubeConfig } = await import("@common/kube_config.ts");
  const { EndpointSliceWatcher } = await import("./endpoint_slice_watcher.ts");
  const kubeConfig = loadKubeConfig({
    kubeconfig: settings.kubeconfig,
    context: settings.context,
    env: options.env,
  });
  const namespace = settings.namespace ?? defaultNamespace(kubeConfig);
  const watcher = new EndpointSliceWatcher({
    kubeConfig,
    namespace,
    service: settings.service,
    portName: settings.portName,
    pool,
    logger,
    onChange,
  });
  await watcher.start();
  return {
    kind: "kubernetes",
    source: {
      namespace,
      service: settings.service,
      ...(settings.portName ? { portName: settings.portName } : {}),
      server: kubeConfig.getCurrentCluster()?.server ?? "(no cluster)",
    },
    watcher,
    close: () => watcher.stop(),
  };
}

/**
 * Starts a complete dispatcher in this process: pool, target watcher, metrics
 * and HTTP server. The entry point and the tests both use it.
 *
 * @module
 */

import { explainListenError } from "@common/listen_error.ts";
import type { Logger } from "@common/log.ts";
import { createApp } from "./app.ts";
import { BodyBudget } from "./body_budget.ts";
import type { DispatcherConfig } from "./config.ts";
import { createDispatch, type Dispatch } from "./dispatch.ts";
import { DispatchQueue } from "./dispatch_queue.ts";
import { createDispatcherMetrics, type DispatcherMetrics } from "./metrics.ts";
import { ReplicaPool } from "./replica_pool.ts";
import { RetryBudget } from "./retry_budget.ts";
import { TargetWatcher } from "./target_watcher.ts";

/** Options of {@linkcode startDispatcher}. */
export interface StartDispatcherOptions {
  logger: Logger;
  /** Export prom-client's process metrics. @default true */
  processMetrics?: boolean;
  /** Fallback re-read interval of the target file, in ms. @default 5000 */
  pollIntervalMs?: number;
}

/** A running dispatcher. */
export interface Dispatcher {
  /** The port it listens on (the kernel's pick when configured as 0). */
  readonly port: number;
  /** Base URL, e.g. `http://127.0.0.1:9000`. */
  readonly url: string;
  readonly pool: ReplicaPool;
  readonly watcher: TargetWatcher;
  readonly metrics: DispatcherMetrics;
  /** The requests waiting for a free replica. */
  readonly queue: DispatchQueue;
  /** The path of every classification (queue, balancing, retries), for other routes. */
  readonly dispatch: Dispatch;
  /** Stops accepting, lets in-flight requests finish, then stops watching. */
  shutdown(): Promise<void>;
}

/**
 * Reads the target file, starts watching it, then listens. The "listening"
 * line, with the numeric `port`, is logged exactly once when the socket is open.
 */
export async function startDispatcher(
  config: DispatcherConfig,
  options: StartDispatcherOptions,
): Promise<Dispatcher> {
  const { logger } = options;
  const pool = new ReplicaPool({
    maxInFlight: config.maxInFlightPerReplica,
    ejectAfter: config.ejectAfter,
    ejectBaseMs: config.ejectBaseMs,
    ejectMaxMs: config.ejectMaxMs,
  });
  const queue = new DispatchQueue(pool, config.queueSize);
  const metrics = createDispatcherMetrics({
    processMetrics: options.processMetrics,
    load: { queueDepth: () => queue.depth, replicas: () => pool.replicas() },
  });
  const watcher = new TargetWatcher({
    path: config.targetsFile,
    pool,
    logger,
    pollIntervalMs: options.pollIntervalMs,
    onChange: () => {
      metrics.replicas.set(pool.size);
      // New replicas are room for the requests waiting.
      queue.wake();
    },
  });
  await watcher.start();
  metrics.replicas.set(pool.size);

  const dispatch = createDispatch({
    pool,
    queue,
    budget: new RetryBudget({
      ratio: config.retryBudgetRatio,
      minPerSecond: config.retryBudgetMinPerSecond,
    }),
    metrics,
    logger,
    retries: config.retries,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    deadlineMs: config.deadlineMs,
  });
  const app = createApp({
    dispatch,
    pool,
    metrics,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    bodies: new BodyBudget(config.maxBufferedBytes),
  });
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: config.host,
      port: config.port,
      onListen: ({ port }) => {
        logger.info("listening", {
          port,
          url: `http://${config.host}:${port}`,
          targets: config.targetsFile,
          replicas: pool.size,
        });
      },
    }, app.fetch);
  } catch (error) {
    await watcher.close();
    throw new Error(explainListenError(error, config.host, config.port), { cause: error });
  }

  const port = server.addr.port;
  let stopping: Promise<void> | undefined;
  return {
    port,
    url: `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`,
    pool,
    watcher,
    metrics,
    queue,
    dispatch,
    shutdown: () => {
      stopping ??= (async () => {
        await server.shutdown();
        await watcher.close();
      })();
      return stopping;
    },
  };
}

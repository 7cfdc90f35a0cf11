/**
 * Starts a complete dispatcher in this process: pool, replica discovery,
 * metrics, the async API's result store and the HTTP server. The entry point
 * and the tests both use it.
 *
 * @module
 */

import { explainListenError } from "@common/listen_error.ts";
import type { Logger } from "@common/log.ts";
import { ASYNC_JOB_STATUSES } from "@common/metrics.ts";
import { createApp } from "./app.ts";
import { type AsyncApi, mountAsyncApi } from "./async_api.ts";
import { BodyBudget } from "./body_budget.ts";
import type { DispatcherConfig } from "./config.ts";
import { type Discovery, startDiscovery } from "./discovery.ts";
import { createDispatch, type Dispatch, type DispatchSetup } from "./dispatch.ts";
import { DispatchQueue } from "./dispatch_queue.ts";
import { createDispatcherMetrics, type DispatcherMetrics } from "./metrics.ts";
import { createPatientDispatch } from "./patient_dispatch.ts";
import { ReplicaPool } from "./replica_pool.ts";
import { ResultStore } from "./result_store.ts";
import { RetryBudget } from "./retry_budget.ts";
import type { TargetWatcher } from "./target_watcher.ts";

/** The async API's routes, as the 404 answer lists them. */
const ASYNC_ROUTES = ["POST /enqueue", "GET /result/:id"];

/** Queue places async jobs may hold: half of them, rounded down. */
export function asyncQueueShare(queueSize: number): number {
  return Math.floor(queueSize / 2);
}

/** Options of {@linkcode startDispatcher}. */
export interface StartDispatcherOptions {
  logger: Logger;
  /** Export prom-client's process metrics. @default true */
  processMetrics?: boolean;
  /** Fallback re-read interval of the target file, in ms. @default 5000 */
  pollIntervalMs?: number;
  /** Environment for the kubeconfig search of Kubernetes discovery. @default Deno.env */
  env?: Record<string, string | undefined>;
}

/** A running dispatcher. */
export interface Dispatcher {
  /** The port it listens on (the kernel's pick when configured as 0). */
  readonly port: number;
  /** Base URL, e.g. `http://127.0.0.1:9000`. */
  readonly url: string;
  readonly pool: ReplicaPool;
  /** The running replica discovery, file or Kubernetes. */
  readonly discovery: Discovery;
  /**
   * The target file watcher of file discovery.
   *
   * @throws {TypeError} when discovery is not `file`; use `discovery` then
   */
  readonly watcher: TargetWatcher;
  readonly metrics: DispatcherMetrics;
  /** The requests waiting for a free replica. */
  readonly queue: DispatchQueue;
  /** The path of every classification (queue, balancing, retries), for other routes. */
  readonly dispatch: Dispatch;
  /** Where async jobs (`POST /enqueue`) keep their outcome. */
  readonly results: ResultStore;
  /** The jobs started by `POST /enqueue`. */
  readonly asyncJobs: AsyncApi;
  /**
   * Stops accepting, lets in-flight requests finish, fails the async jobs
   * still pending (503 `shutting_down`) and waits for them to stop, then
   * stops discovery.
   */
  shutdown(): Promise<void>;
}

/**
 * Fills the pool from the chosen discovery (the target file, or the first
 * list of EndpointSlices), keeps following it, then listens. The "listening"
 * line, with the numeric `port` and the discovery in use, is logged exactly
 * once when the socket is open.
 *
 * Async jobs get their own dispatch whose deadline is `pendingTimeoutMs`
 * instead of `deadlineMs`: no client connection waits on them, so they may
 * wait longer for a replica; the store's pending deadline is the same, so
 * whichever notices first fails the job with 504.
 *
 * @throws {Error} when discovery cannot start (its message says what to
 *   check) or the port cannot be opened
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
  const discovery = await startDiscovery(config, {
    pool,
    logger,
    pollIntervalMs: options.pollIntervalMs,
    env: options.env,
    onChange: () => {
      metrics.replicas.set(pool.size);
      // New replicas are room for the requests waiting.
      queue.wake();
    },
  });
  metrics.replicas.set(pool.size);

  const setup: DispatchSetup = {
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
  };
  const dispatch = createDispatch(setup);
  // Async jobs wait for room instead of being refused, but may hold only
  // half of the queue's places: the other half stays for /classify, which
  // still gets 503 at once when its own half is full.
  const dispatchLater = createPatientDispatch(
    createDispatch({ ...setup, deadlineMs: config.pendingTimeoutMs }),
    { deadlineMs: config.pendingTimeoutMs, queueShare: asyncQueueShare(config.queueSize) },
  );
  const results = new ResultStore({
    maxEntries: config.maxResults,
    ttlMs: config.resultTtlMs,
    pendingTimeoutMs: config.pendingTimeoutMs,
    onChange: (counts) => {
      for (const status of ASYNC_JOB_STATUSES) {
        metrics.asyncJobs.set({ status }, counts[status]);
      }
    },
  });
  const bodies = new BodyBudget(config.maxBufferedBytes);
  const app = createApp({
    dispatch,
    pool,
    metrics,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    bodyTimeoutMs: config.bodyTimeoutMs,
    bodies,
    moreRoutes: ASYNC_ROUTES,
  });
  // The store's signal aborts at the job's deadline and when the store closes
  // at shutdown; the client that enqueued already has its 202 and is not
  // connected anymore, so its request's signal must not stop the job.
  const asyncJobs = mountAsyncApi(app, {
    submit: dispatchLater,
    store: results,
    maxBodyBytes: config.maxBodyBytes,
    bodyTimeoutMs: config.bodyTimeoutMs,
    logger,
    uploads: bodies,
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
          discovery: discovery.kind,
          ...discovery.source,
          replicas: pool.size,
        });
      },
    }, app.fetch);
  } catch (error) {
    results.close();
    await discovery.close();
    throw new Error(explainListenError(error, config.host, config.port), { cause: error });
  }

  const port = server.addr.port;
  let stopping: Promise<void> | undefined;
  return {
    port,
    url: `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`,
    pool,
    discovery,
    get watcher(): TargetWatcher {
      if (discovery.kind === "file") return discovery.watcher;
      throw new TypeError(
        `Cannot give the target file watcher: discovery is ${discovery.kind}; use .discovery`,
      );
    },
    metrics,
    queue,
    dispatch,
    results,
    asyncJobs,
    shutdown: () => {
      stopping ??= (async () => {
        await server.shutdown();
        // Nothing can enqueue anymore: fail what is pending, then wait until
        // every job has let go of its replica and its upload bytes.
        results.close();
        await asyncJobs.settled();
        await discovery.close();
      })();
      return stopping;
    },
  };
}

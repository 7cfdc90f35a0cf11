/**
 * Starts a complete replica in this process: listens first (so `/healthz`
 * answers while the model loads), loads the model, then reports ready. The
 * entry point and the tests both use it.
 *
 * @module
 */

import { explainListenError } from "@common/listen_error.ts";
import type { Logger } from "@common/log.ts";
import { Admission } from "./admission.ts";
import { type AppState, createApp } from "./app.ts";
import { chooseDecoder } from "./choose_decoder.ts";
import { Classifier } from "./classifier.ts";
import type { ModelConfig } from "./config.ts";
import { cpuBudget } from "./cpu_budget.ts";
import { loadLabels } from "./labels.ts";
import { bindCollectGarbage, bindMallocTrim } from "./memory_trim.ts";
import { createModelMetrics, type ModelMetrics } from "./metrics.ts";
import { PixelBudget } from "./pixel_budget.ts";

/** How often freed native memory is handed back to the operating system. */
const TRIM_INTERVAL_MS = 1_000;

/** A running replica. */
export interface ModelService {
  readonly port: number;
  /** Base URL, e.g. `http://127.0.0.1:8000`. */
  readonly url: string;
  readonly classifier: Classifier;
  /**
   * Stops taking requests (readiness turns 503 first), waits up to the drain
   * timeout for admitted ones, then closes the socket and the session.
   */
  shutdown(): Promise<void>;
}

/** Options of {@linkcode startModelService}. */
export interface StartOptions {
  logger: Logger;
  /** A model already loaded (tests share one); loaded from the config otherwise. */
  classifier?: Classifier;
}

/** Starts a replica and resolves once it is ready. */
export async function startModelService(
  config: ModelConfig,
  options: StartOptions,
): Promise<ModelService> {
  const { logger } = options;
  const budget = cpuBudget();
  const threads = config.threads ?? budget.cpus;
  const threadsSource = config.threads === undefined ? budget.source : "--threads/ORT_THREADS";
  const labels = await loadLabels();
  const { decoder, reason: decoderReason } = await chooseDecoder(config.decoder);
  logger.info("image decoder", { decoder: decoder.name, reason: decoderReason });
  const admission = new Admission(config.maxInFlight, config.maxQueue);

  const listening = Promise.withResolvers<Deno.NetAddr>();
  // The app needs metrics, which need the model's identity; until it is known
  // the server is only alive, so the state is filled in once the model loads.
  const state = { draining: false } as AppState;
  let handler: (request: Request) => Response | Promise<Response> = () =>
    Response.json({ status: "loading" }, { status: 503, headers: { "retry-after": "1" } });
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: config.host,
      port: config.port,
      onListen: (address) => listening.resolve(address as Deno.NetAddr),
    }, (request) => handler(request));
  } catch (error) {
    throw new Error(explainListenError(error, config.host, config.port), { cause: error });
  }
  const address = await listening.promise;
  logger.info("listening", { host: address.hostname, port: address.port });

  // Set once the model's identity is known; the classifier reports batches to it.
  const late: { metrics?: ModelMetrics } = {};
  let classifier = options.classifier;
  if (!classifier) {
    logger.info("loading model", { path: config.modelPath, threads, threadsSource });
    const started = performance.now();
    try {
      classifier = await Classifier.load(config.modelPath, threads, {
        maxBatch: config.maxBatch,
        onBatch: (size) => late.metrics?.batchSize.observe(size),
      });
    } catch (error) {
      await server.shutdown();
      throw error;
    }
    logger.info("model loaded", { ms: Math.round(performance.now() - started) });
  }
  const { identity } = classifier;
  const collect = bindCollectGarbage();
  const mallocTrim = bindMallocTrim();
  // Once after loading: the model's load-time garbage goes back at once.
  collect?.();
  mallocTrim?.();
  // Then every second: the worker's isolate holds the tensors of finished
  // images until it collects, so it is asked to, and freed pages go back.
  // Forcing collections on this thread too was measured to double /healthz's
  // p99 under load for little memory, so V8 keeps deciding here.
  const trim = () => {
    classifier?.collectGarbage();
    mallocTrim?.();
  };
  const trimTimer = setInterval(trim, TRIM_INTERVAL_MS);
  Deno.unrefTimer(trimTimer);
  logger.info("memory", {
    rssMb: Math.round(Deno.memoryUsage().rss / 2 ** 20),
    trimEverySeconds: TRIM_INTERVAL_MS / 1000,
    garbageCollection: collect ? "on demand" : "unavailable",
    mallocTrim: mallocTrim ? "glibc malloc_trim" : "unavailable (not glibc)",
  });
  const metrics = createModelMetrics(
    identity,
    classifier.threads,
    decoder.name,
    () => admission.waiting,
  );
  late.metrics = metrics;
  Object.assign(
    state,
    {
      classifier,
      admission,
      metrics,
      labels,
      decoder,
      logger,
      maxBodyBytes: config.maxBodyBytes,
      bodyTimeoutMs: config.bodyTimeoutMs,
      maxPixels: config.maxPixels,
      pixels: new PixelBudget(config.pixelBudget),
      info: {
        model: identity,
        input: classifier.inputName,
        output: classifier.outputName,
        threads: classifier.threads,
        threadsSource,
        decoder: { name: decoder.name, reason: decoderReason, formats: decoder.formats },
        limits: {
          maxBodyBytes: config.maxBodyBytes,
          maxPixels: config.maxPixels,
          pixelBudget: config.pixelBudget,
          bodyTimeoutS: config.bodyTimeoutMs / 1000,
          maxInFlight: config.maxInFlight,
          maxBatch: config.maxBatch,
          maxQueue: config.maxQueue,
        },
      },
    } satisfies Omit<AppState, "draining">,
  );
  const app = createApp(state);
  handler = (request) => app.fetch(request);
  if (identity.weights === "synthetic") {
    logger.warn("serving SYNTHETIC weights: predictions are meaningless", { ...identity });
  } else {
    logger.info("serving model", { ...identity });
  }
  logger.info("ready", { model: identity.name, weights: identity.weights });

  const url =
    `http://${address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname}` +
    `:${address.port}`;
  let stopping: Promise<void> | undefined;
  return {
    port: address.port,
    url,
    classifier,
    shutdown() {
      stopping ??= (async () => {
        state.draining = true;
        admission.close();
        const deadline = Date.now() + config.drainTimeoutMs;
        // Admitted requests resolve on their own; this only bounds the wait.
        while (admission.running + admission.waiting > 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const abandoned = admission.running + admission.waiting;
        if (abandoned > 0) logger.warn("drain timed out", { abandoned });
        clearInterval(trimTimer);
        await server.shutdown();
        if (!options.classifier) await classifier.close();
      })();
      return stopping;
    },
  };
}

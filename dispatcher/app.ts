/**
 * The dispatcher's HTTP routes: `POST /classify` forwards an image to a model
 * replica; `/metrics`, `/healthz` and `/readyz` serve operators.
 *
 * @module
 */

import { Hono } from "hono";
import { HttpError } from "@common/http_error.ts";
import type { Logger } from "@common/log.ts";
import type { BodyBudget } from "./body_budget.ts";
import { forward } from "./forward.ts";
import { type DispatcherMetrics, outcomeOf } from "./metrics.ts";
import { readBody } from "@common/read_body.ts";
import type { ReplicaPool } from "./replica_pool.ts";

/** What the routes need. */
export interface AppOptions {
  pool: ReplicaPool;
  metrics: DispatcherMetrics;
  logger: Logger;
  /** Largest accepted body, in bytes. */
  maxBodyBytes: number;
  /** Extra attempts on other replicas. */
  retries: number;
  /** Time limit of one attempt, in milliseconds. */
  upstreamTimeoutMs: number;
  /** Bytes of bodies held at once. */
  bodies: BodyBudget;
}

/**
 * Reserves room for a body before it is read: its declared length, or the
 * largest accepted one when it declares none (chunked). A declared length
 * over the limit is left to `readBody`, which answers 413.
 *
 * @throws {HttpError} 503 with Retry-After when the bodies held already fill the budget
 */
function reserve(declared: string | undefined, options: AppOptions): () => void {
  const length = Number(declared);
  const bytes = declared !== undefined && Number.isFinite(length) && length >= 0
    ? Math.min(length, options.maxBodyBytes)
    : options.maxBodyBytes;
  const giveBack = options.bodies.tryTake(bytes);
  if (giveBack) return giveBack;
  throw new HttpError(
    503,
    "busy",
    `The dispatcher holds ${options.bodies.used} bytes of uploads, its limit is ` +
      `${options.bodies.capacity}; retry after the delay`,
    { headers: { "retry-after": "1" } },
  );
}

/** Builds the Hono application. */
export function createApp(options: AppOptions): Hono {
  const { pool, metrics, logger } = options;
  const app = new Hono();

  app.post("/classify", async (c) => {
    const started = performance.now();
    metrics.inFlight.inc();
    let response: Response;
    let giveBack: (() => void) | undefined;
    try {
      giveBack = reserve(c.req.header("content-length"), options);
      const body = await readBody(c.req.raw, { maxBytes: options.maxBodyBytes });
      response = await forward(body, c.req.header("content-type") ?? null, {
        pool,
        retries: options.retries,
        timeoutMs: options.upstreamTimeoutMs,
        logger,
      });
    } catch (error) {
      response = errorResponse(error, logger);
    } finally {
      giveBack?.();
      metrics.inFlight.dec();
    }
    const outcome = outcomeOf(response.status);
    metrics.requests.inc({ outcome });
    metrics.duration.observe({ outcome }, (performance.now() - started) / 1000);
    return response;
  });

  app.get("/metrics", async () => {
    return new Response(await metrics.registry.metrics(), {
      headers: { "content-type": metrics.registry.contentType },
    });
  });
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  // Ready even with no replica: the dispatcher then answers 503 with
  // Retry-After itself, which is the right answer for the caller.
  app.get("/readyz", (c) => c.json({ status: "ready", replicas: pool.size }));

  app.notFound(() =>
    new HttpError(404, "not_found", "Cannot find this route", {
      accepted: ["POST /classify", "GET /metrics", "GET /healthz", "GET /readyz"],
    }).response()
  );
  app.onError((error) => errorResponse(error, logger));
  return app;
}

/** The one error path: refusals become their JSON answer, anything else a logged 500. */
function errorResponse(error: unknown, logger: Logger): Response {
  if (error instanceof HttpError) return error.response();
  logger.error("request failed", { error });
  return new HttpError(500, "internal", "The dispatcher failed; see its log").response();
}

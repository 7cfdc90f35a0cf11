/**
 * The dispatcher's HTTP routes: `POST /classify` forwards an image to a model
 * replica; `/metrics`, `/healthz` and `/readyz` serve operators. The async
 * API (`async_api.ts`) mounts its routes on the same app.
 *
 * @module
 */

import { Hono } from "hono";
import { HttpError } from "@common/http_error.ts";
import type { Logger } from "@common/log.ts";
import { readBody } from "@common/read_body.ts";
import type { BodyBudget } from "./body_budget.ts";
import type { Dispatch } from "./dispatch.ts";
import { type DispatcherMetrics, outcomeOf } from "./metrics.ts";
import type { ReplicaPool } from "./replica_pool.ts";
import { declaredLength, requestedDeadline } from "./request_limits.ts";

/** What the routes need. */
export interface AppOptions {
  /** The queue, balancing and retry path every classification takes. */
  dispatch: Dispatch;
  pool: ReplicaPool;
  metrics: DispatcherMetrics;
  logger: Logger;
  /** Largest accepted body, in bytes. */
  maxBodyBytes: number;
  /** How long a whole upload may take to arrive, in ms. @default 30000 */
  bodyTimeoutMs?: number;
  /** Bytes of bodies held at once. */
  bodies: BodyBudget;
  /** Routes mounted on the app elsewhere (e.g. the async API), listed in 404 answers. */
  moreRoutes?: readonly string[];
}

/**
 * Reserves room for a body before it is read: its declared length, or the
 * largest accepted one when it declares none (chunked).
 *
 * @throws {HttpError} 413 when the declared length is over the limit, 503
 *   with Retry-After when the bodies held already fill the budget
 */
function reserve(declared: number | undefined, options: AppOptions): () => void {
  if (declared !== undefined && declared > options.maxBodyBytes) {
    throw new HttpError(
      413,
      "body_too_large",
      `Cannot accept the image: expected a body of at most ${options.maxBodyBytes} bytes, ` +
        `got ${declared}`,
      { accepted: [`a body of at most ${options.maxBodyBytes} bytes`] },
    );
  }
  const giveBack = options.bodies.tryTake(declared ?? options.maxBodyBytes);
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
  const { pool, metrics, logger, dispatch } = options;
  const app = new Hono();

  app.post("/classify", async (c) => {
    const receivedAt = performance.now();
    const { signal } = c.req.raw;
    let giveBack: (() => void) | undefined;
    try {
      const deadlineMs = requestedDeadline(c.req.header("x-deadline-ms"));
      giveBack = reserve(declaredLength(c.req.header("content-length")), options);
      const body = await readBody(c.req.raw, {
        maxBytes: options.maxBodyBytes,
        timeoutMs: options.bodyTimeoutMs,
      });
      // Counted by dispatch itself, like every other caller's requests.
      return await dispatch(body, c.req.header("content-type") ?? null, {
        signal,
        deadlineMs,
        receivedAt,
      });
    } catch (error) {
      // A body cut short means the client closed its side: counted as gone,
      // though a client that only half-closed can still read the 400. Deno may
      // report the cut before it aborts the request's signal.
      const cut = error instanceof HttpError && error.code === "incomplete_body";
      const response = signal.aborted ? clientGone() : errorResponse(error, logger);
      const outcome = cut ? "client_closed" : outcomeOf(response.status);
      metrics.requests.inc({ outcome });
      metrics.duration.observe({ outcome }, (performance.now() - receivedAt) / 1000);
      return response;
    } finally {
      giveBack?.();
    }
  });

  app.get("/metrics", async () => {
    return new Response(await metrics.registry.metrics(), {
      headers: { "content-type": metrics.registry.contentType },
    });
  });
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  // Ready even with no replica: requests then wait in the queue for one up to
  // their deadline, and get 503 with Retry-After if none appears.
  app.get("/readyz", (c) => c.json({ status: "ready", replicas: pool.size }));

  const routes = [
    "POST /classify",
    ...(options.moreRoutes ?? []),
    "GET /metrics",
    "GET /healthz",
    "GET /readyz",
  ];
  app.notFound((c) => notFound(routes, c.req.method, c.req.path));
  app.onError((error) => errorResponse(error, logger));
  return app;
}

function clientGone(): Response {
  return new HttpError(499, "client_closed", "The client closed the request before its answer")
    .response();
}

/** The one error path: refusals become their JSON answer, anything else a logged 500. */
function errorResponse(error: unknown, logger: Logger): Response {
  if (error instanceof HttpError) return error.response();
  logger.error("request failed", { error });
  return new HttpError(500, "internal", "The dispatcher failed; see its log").response();
}

/**
 * A 405 with `Allow` when the path is known under other methods, else a 404;
 * both list the routes that exist. GET routes answer HEAD too (Hono does).
 */
function notFound(routes: readonly string[], method: string, path: string): Response {
  const allowed = routes.flatMap((route) => {
    const [routeMethod, pattern] = route.split(" ");
    return matches(pattern, path) ? [routeMethod] : [];
  });
  if (allowed.length === 0) {
    return new HttpError(404, "not_found", `Cannot find the route ${method} ${path}`, {
      accepted: [...routes],
    }).response();
  }
  if (allowed.includes("GET")) allowed.push("HEAD");
  const allow = allowed.join(", ");
  return new HttpError(
    405,
    "method_not_allowed",
    `Cannot answer ${method} on ${path}: it takes ${allow}`,
    {
      accepted: routes.filter((route) => matches(route.split(" ")[1], path)),
      headers: { allow },
    },
  ).response();
}

/** Whether `path` fits a route pattern whose `:name` parts match one segment. */
function matches(pattern: string, path: string): boolean {
  const wanted = pattern.split("/");
  const got = path.split("/");
  return wanted.length === got.length &&
    wanted.every((part, i) => part.startsWith(":") ? got[i] !== "" : part === got[i]);
}

/**
 * The replica's HTTP routes: `POST /infer` classifies one image; `/healthz`,
 * `/readyz`, `/info` and `/metrics` serve operators and the control plane.
 *
 * @module
 */

import { Hono } from "hono";
import { HttpError } from "@common/http_error.ts";
import type { Logger } from "@common/log.ts";
import { readBody } from "@common/read_body.ts";
import type { Outcome } from "@common/metrics.ts";
import type { Admission } from "./admission.ts";
import type { Classifier } from "./classifier.ts";
import type { ImageDecoder } from "./image_decoder.ts";
import type { PixelBudget } from "./pixel_budget.ts";
import { checkImage, decodeChecked } from "./decode.ts";
import type { ModelMetrics } from "./metrics.ts";
import { preprocess } from "./preprocess.ts";
import { softmax, topK } from "./top_k.ts";

/** Content types `POST /infer` accepts. */
export const ACCEPTED_TYPES = [
  "image/* (image/jpeg, image/png, ...: the bytes decide the format)",
  "application/octet-stream",
  'application/json with {"data": "<base64 image>"}',
];

/** Classes in each answer. */
export const TOP_K = 5;

/** What the routes read and share with the server around them. */
export interface AppState {
  /** Undefined until the model is loaded. */
  classifier?: Classifier;
  draining: boolean;
  admission: Admission;
  metrics: ModelMetrics;
  labels: readonly string[];
  decoder: ImageDecoder;
  logger: Logger;
  maxBodyBytes: number;
  /** How long a body may take to arrive, in ms. */
  bodyTimeoutMs: number;
  maxPixels: number;
  /** Pixels being decoded at once. */
  pixels: PixelBudget;
  /** Static facts for `/info`. */
  info: Record<string, unknown>;
}

/** Builds the Hono application over `state`. */
export function createApp(state: AppState): Hono {
  const { metrics, logger } = state;
  const app = new Hono();

  app.post("/infer", async (c) => {
    let response: Response;
    try {
      response = Response.json(await infer(state, c.req.raw));
    } catch (error) {
      response = errorResponse(error, logger);
    }
    metrics.requests.inc({ outcome: outcomeOf(response.status) });
    return response;
  });

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", (c) => {
    if (state.draining) return c.json({ status: "draining" }, 503);
    if (!state.classifier) return c.json({ status: "loading" }, 503);
    const { name, weights, sha256 } = state.classifier.identity;
    return c.json({ status: "ready", model: { name, weights, sha256 } });
  });
  app.get("/info", (c) => {
    const ready = !!state.classifier && !state.draining;
    const memory = Object.fromEntries(
      Object.entries(Deno.memoryUsage()).map(([key, bytes]) => [key, Math.round(bytes / 2 ** 20)]),
    );
    return c.json({ ...state.info, ready, memoryMb: memory });
  });
  app.get("/metrics", async () => {
    return new Response(await metrics.registry.metrics(), {
      headers: { "content-type": metrics.registry.contentType },
    });
  });

  app.notFound(() =>
    new HttpError(404, "not_found", "Cannot find this route", {
      accepted: ["POST /infer", "GET /healthz", "GET /readyz", "GET /info", "GET /metrics"],
    }).response()
  );
  app.onError((error) => errorResponse(error, logger));
  return app;
}

async function infer(state: AppState, request: Request) {
  const classifier = state.classifier;
  if (!classifier || state.draining) {
    throw new HttpError(503, state.draining ? "draining" : "loading", "This replica is not ready", {
      headers: { "retry-after": "1" },
    });
  }
  // The content type is checked before anything waits or reads.
  const envelope = envelopeOf(request.headers.get("content-type"));

  // Admission comes before the body is read: a queued request's upload stays
  // in the socket, so memory holds at most max-in-flight bodies, not one per
  // connection.
  const release = await state.admission.enter();
  state.metrics.inFlight.inc();
  try {
    const body = await readBody(request, {
      maxBytes: state.maxBodyBytes,
      timeoutMs: state.bodyTimeoutMs,
    });
    const image = envelope === "json" ? fromJson(body) : body;
    const started = performance.now();
    const header = checkImage(image, state.maxPixels, state.decoder);
    const giveBack = await state.pixels.take(header.width * header.height);
    let tensor: Float32Array;
    try {
      tensor = preprocess(await decodeChecked(image, header, state.decoder));
    } finally {
      giveBack();
    }
    const decoded = performance.now();
    const logits = await classifier.score(tensor);
    const scored = performance.now();
    state.metrics.preprocessDuration.observe((decoded - started) / 1000);
    state.metrics.duration.observe((scored - decoded) / 1000);
    const probabilities = softmax(logits);
    if (!probabilities.some((p) => p > 0)) {
      throw new Error("the model produced no finite score for this image");
    }
    const { name, weights } = classifier.identity;
    return {
      predictions: topK(probabilities, state.labels, TOP_K),
      model: { name, weights },
      timings: {
        preprocessMs: round(decoded - started),
        inferenceMs: round(scored - decoded),
      },
    };
  } finally {
    state.metrics.inFlight.dec();
    release();
  }
}

/**
 * How the body carries the image: raw bytes or the JSON envelope existing
 * clients send.
 *
 * @throws {HttpError} 415 for any other content type
 */
export function envelopeOf(contentType: string | null): "raw" | "json" {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (type === "application/json") return "json";
  // The bytes themselves say which format they are; the declared image type
  // only has to be an image type (clients often send image/jpeg for a PNG).
  if (type.startsWith("image/") || type === "application/octet-stream") return "raw";
  throw new HttpError(
    415,
    "unsupported_content_type",
    contentType === null
      ? "Cannot classify a body without a Content-Type; name the image type"
      : `Cannot classify a body of type "${contentType}"`,
    { accepted: ACCEPTED_TYPES },
  );
}

function fromJson(body: Uint8Array): Uint8Array {
  const bad = (message: string) =>
    new HttpError(400, "bad_json", message, {
      accepted: ['{"data": "<base64 of a JPEG, PNG or GIF>"}'],
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch (error) {
    throw bad(`Cannot parse the body as JSON: ${(error as Error).message}`);
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (typeof data !== "string") {
    throw bad('Cannot find the image: expected a string field "data" holding base64');
  }
  // Clients often paste a data URL or wrap the base64 text in lines.
  const text = data.replace(/^data:[^,]*;base64,/, "").replace(/\s+/g, "");
  try {
    return Uint8Array.fromBase64(text);
  } catch {
    throw bad('Cannot decode "data": it is not valid base64');
  }
}

function outcomeOf(status: number): Outcome {
  if (status < 400) return "ok";
  if (status === 503) return "overloaded";
  if (status < 500) return "bad_input";
  return "error";
}

function errorResponse(error: unknown, logger: Logger): Response {
  if (error instanceof HttpError) {
    if (logger.debugEnabled) logger.debug("refused", { code: error.code, reason: error.message });
    return error.response();
  }
  logger.error("request failed", { error });
  return new HttpError(500, "internal", "The model service failed; see its log").response();
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/**
 * The asynchronous API that existing clients use. `POST /enqueue` takes a
 * JSON envelope holding a base64 image and answers 202 with a job id at once;
 * `GET /result/:id` then says whether that job is pending, done (with the
 * model's answer) or failed (with the reason). The image goes through
 * `submit`, the same queue and balancing path as `POST /classify`, and the
 * outcome waits in a {@linkcode ResultStore} until it expires.
 *
 * @module
 */

import type { Hono } from "hono";
import { HttpError } from "@common/http_error.ts";
import type { Logger } from "@common/log.ts";
import { readBody } from "@common/read_body.ts";
import { type JobProgress, newProgress, pendingTimeoutError } from "./pending_timeout.ts";
import type { Admission, JobError, ResultStore } from "./result_store.ts";

/**
 * Classifies one image the way `POST /classify` does. Resolves to that
 * route's answer: 2xx with the model's JSON, a replica's 4xx, or the
 * dispatcher's own 503/504. It should stop when `signal` aborts, and keep
 * `progress` up to date so a timeout can say where the job was.
 */
export type Submit = (
  body: Uint8Array<ArrayBuffer>,
  contentType: string | null,
  signal: AbortSignal,
  progress: JobProgress,
) => Promise<Response>;

/** A budget of upload bytes, shared with `POST /classify` (a `BodyBudget` fits). */
export interface UploadBudget {
  readonly used: number;
  readonly capacity: number;
  /** Reserves `bytes`; returns the function giving them back, or undefined when full. */
  tryTake(bytes: number): (() => void) | undefined;
}

/** Options of {@linkcode mountAsyncApi}. */
export interface AsyncApiOptions {
  submit: Submit;
  store: ResultStore;
  /** Largest accepted image after base64 decoding, in bytes. */
  maxBodyBytes: number;
  logger: Logger;
  /** How long the whole upload may take to arrive, in ms. @default 30000 */
  bodyTimeoutMs?: number;
  /**
   * Upload bytes held by the dispatcher. An accepted job keeps its
   * reservation until `submit` settles, because the image stays in memory
   * until then. @default no bound beyond the store's
   */
  uploads?: UploadBudget;
}

/** Handle on the jobs started by the mounted routes. */
export interface AsyncApi {
  /** Jobs whose `submit` has not settled yet. */
  readonly running: number;
  /** Resolves once every job started so far has settled (for shutdown and tests). */
  settled(): Promise<void>;
}

/** What `POST /enqueue` accepts, as error answers list it. */
export const ENQUEUE_ACCEPTED = [
  'Content-Type: application/json with {"data": "<base64 of the image file>"}',
  '"data" may start with a data URL prefix "data:image/<type>;base64,"',
];

/** Type the decoded image is submitted with: the replica reads the format from the bytes. */
const SUBMITTED_TYPE = "application/octet-stream";

/**
 * Largest JSON body accepted for an image of at most `maxImageBytes`: its
 * base64 text (4 characters per 3 bytes), room for line breaks every 76
 * characters (2 bytes each, as MIME tools wrap), and 1 KiB for the envelope
 * and a data URL prefix. For 20 MiB images that is 27,962,028 + 735,843 +
 * 1,024 bytes, about 27.4 MiB.
 */
export function envelopeLimit(maxImageBytes: number): number {
  const base64 = 4 * Math.ceil(maxImageBytes / 3);
  return base64 + Math.ceil(base64 / 38) + 1024;
}

/**
 * Mounts `POST /enqueue` and `GET /result/:id` on `app`.
 *
 * @throws {RangeError} when `maxBodyBytes` or `bodyTimeoutMs` is below 1
 */
export function mountAsyncApi(app: Hono, options: AsyncApiOptions): AsyncApi {
  const { submit, store, maxBodyBytes, logger, bodyTimeoutMs = 30_000, uploads } = options;
  if (!(Number.isInteger(maxBodyBytes) && maxBodyBytes >= 1)) {
    const rule = "maxBodyBytes must be an integer >= 1";
    throw new RangeError(`Cannot mount the async API: ${rule}, got ${maxBodyBytes}`);
  }
  if (!(bodyTimeoutMs >= 1)) {
    const rule = "bodyTimeoutMs must be >= 1";
    throw new RangeError(`Cannot mount the async API: ${rule}, got ${bodyTimeoutMs}`);
  }
  const limit = envelopeLimit(maxBodyBytes);
  const jobs = new Set<Promise<void>>();

  async function run(
    id: string,
    image: Uint8Array<ArrayBuffer>,
    signal: AbortSignal,
    progress: JobProgress,
  ) {
    let outcome: Finished;
    try {
      const response = await submit(image, SUBMITTED_TYPE, signal, progress);
      outcome = await finishedOf(response, store.maxResultBytes, signal);
    } catch (error) {
      // An aborted job was already failed by the store (deadline or shutdown).
      if (signal.aborted) return;
      logger.error("async job failed", { id, error });
      outcome = {
        status: 500,
        code: "internal",
        message: "The dispatcher failed while classifying the image; see its log",
      };
    }
    if ("json" in outcome) store.complete(id, outcome.json, outcome.bytes);
    else store.fail(id, outcome);
    if (logger.debugEnabled) {
      logger.debug("async job finished", { id, status: "json" in outcome ? 200 : outcome.status });
    }
  }

  app.post("/enqueue", async (c) => {
    let giveBack: (() => void) | undefined;
    try {
      requireJson(c.req.header("content-type"));
      // Refuse before reading: an upload the store cannot keep is wasted.
      const early = store.check();
      if (early) throw storeRefusal(early);
      giveBack = reserve(c.req.header("content-length"), limit, uploads);
      const body = await readEnvelope(c.req.raw, limit, maxBodyBytes, bodyTimeoutMs);
      const image = imageOf(body, maxBodyBytes);

      const progress = newProgress();
      const admission = store.open(() => pendingTimeoutError(store.pendingTimeoutMs, progress));
      if (!admission.ok) throw storeRefusal(admission);
      const { id, signal } = admission;
      // The job owns the reservation from here on: the image lives until it settles.
      const release = giveBack;
      giveBack = undefined;
      const job = run(id, image, signal, progress).finally(() => {
        release?.();
        jobs.delete(job);
      });
      jobs.add(job);

      if (logger.debugEnabled) logger.debug("async job accepted", { id, bytes: image.length });
      const url = `/result/${id}`;
      return Response.json({ id, status: "pending", result_url: url }, {
        status: 202,
        headers: { location: url, "cache-control": "no-store" },
      });
    } catch (error) {
      giveBack?.();
      return errorResponse(error, logger);
    }
  });

  app.get("/result/:id", (c) => {
    const headers = { "cache-control": "no-store" };
    const view = store.get(c.req.param("id"));
    if (!view) {
      const ttl = Math.round(store.ttlMs / 1000);
      const refusal = new HttpError(
        404,
        "unknown_job",
        `No job has this id: it is wrong, or its result expired (results are kept ${ttl} s ` +
          "after the job finishes); submit the image again with POST /enqueue",
        { headers },
      );
      return refusal.response();
    }
    if (view.status !== "done") return Response.json(view, { headers });
    // The stored text is JSON checked when it arrived, so it can be spliced in as it is.
    const text = `{"id":${JSON.stringify(view.id)},"status":"done","result":${view.resultJson}}`;
    return new Response(text, { headers: { ...headers, "content-type": "application/json" } });
  });

  return {
    get running() {
      return jobs.size;
    },
    async settled() {
      while (jobs.size > 0) await Promise.allSettled([...jobs]);
    },
  };
}

/** A job's end: the model's JSON text and its size, or why it failed. */
type Finished = { json: string; bytes: number } | JobError;

/** Turns the answer of `submit` into the job's outcome. */
async function finishedOf(
  response: Response,
  maxBytes: number,
  signal: AbortSignal,
): Promise<Finished> {
  const { status } = response;
  const bytes = await readCapped(response, maxBytes, signal);
  if (!bytes) {
    return {
      status: 502,
      code: "result_too_large",
      message: `The answer (HTTP ${status}) exceeded the ${maxBytes} bytes kept per job`,
    };
  }
  const text = new TextDecoder().decode(bytes);
  if (!response.ok) return failureOf(status, text);
  try {
    JSON.parse(text);
  } catch {
    return {
      status: 502,
      code: "bad_result",
      message: `The replica answered HTTP ${status} with a body that is not JSON`,
    };
  }
  return { json: text, bytes: bytes.length };
}

/** Reads the body of a refusal as the `{error, message}` JSON every service answers. */
function failureOf(status: number, text: string): JobError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const { error, message } = (typeof parsed === "object" && parsed !== null ? parsed : {}) as {
    error?: unknown;
    message?: unknown;
  };
  return {
    status,
    code: typeof error === "string" ? error : `http_${status}`,
    message: typeof message === "string"
      ? message
      : text.trim().slice(0, 200) || `The classification answered HTTP ${status}`,
  };
}

/**
 * Reads a response body of at most `maxBytes`; undefined when it is larger.
 *
 * @throws the signal's reason when the job is aborted while reading
 */
async function readCapped(
  response: Response,
  maxBytes: number,
  signal: AbortSignal,
): Promise<Uint8Array | undefined> {
  signal.throwIfAborted();
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const stop = () => reader.cancel(signal.reason).catch(() => {});
  signal.addEventListener("abort", stop, { once: true });
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        return undefined;
      }
      chunks.push(value);
    }
  } finally {
    signal.removeEventListener("abort", stop);
  }
  signal.throwIfAborted();
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}

/**
 * @throws {HttpError} 415 unless the body is declared `application/json`
 *   (parameters such as charset allowed); raw images belong to `POST /classify`
 */
function requireJson(contentType: string | undefined): void {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (type === "application/json") return;
  const raw = type.startsWith("image/") || type === "application/octet-stream";
  const problem = type === ""
    ? "Cannot read the body: the request has no Content-Type"
    : `Cannot read a body of Content-Type ${type}`;
  throw new HttpError(
    415,
    "unsupported_content_type",
    `${problem}; /enqueue reads a JSON envelope sent with Content-Type: application/json` +
      (raw ? "; wrap the base64 image in it, or send the raw bytes to POST /classify" : ""),
    { accepted: ENQUEUE_ACCEPTED },
  );
}

/**
 * Reserves upload bytes before reading: the declared length, or the largest
 * accepted body when none is declared (chunked). An oversize declared length
 * reserves only the limit, since `readBody` refuses it at once.
 *
 * @throws {HttpError} 503 with Retry-After when the budget is used up
 */
function reserve(
  declared: string | undefined,
  limit: number,
  uploads: UploadBudget | undefined,
): (() => void) | undefined {
  if (!uploads) return undefined;
  const length = Number(declared);
  const bytes = declared !== undefined && Number.isFinite(length) && length >= 0
    ? Math.min(length, limit)
    : limit;
  const giveBack = uploads.tryTake(bytes);
  if (giveBack) return giveBack;
  throw new HttpError(
    503,
    "busy",
    `The dispatcher holds ${uploads.used} bytes of uploads, its limit is ${uploads.capacity}; ` +
      "retry after the delay",
    { headers: { "retry-after": "1" } },
  );
}

/** @throws {HttpError} what `readBody` throws, with a 413 that names the image limit */
async function readEnvelope(
  request: Request,
  limit: number,
  maxImageBytes: number,
  timeoutMs: number,
): Promise<Uint8Array<ArrayBuffer>> {
  try {
    return await readBody(request, { maxBytes: limit, timeoutMs });
  } catch (error) {
    if (!(error instanceof HttpError) || error.status !== 413) throw error;
    const declared = request.headers.get("content-length");
    throw new HttpError(
      413,
      "body_too_large",
      `Cannot accept the upload: a JSON body may be at most ${limit} bytes (the base64 of an ` +
        `image of at most ${maxImageBytes} bytes), got ${declared ?? `more than ${limit}`}`,
      { accepted: ENQUEUE_ACCEPTED, cause: error },
    );
  }
}

/**
 * Takes the image out of the JSON envelope.
 *
 * @throws {HttpError} 400 `bad_json`, `bad_base64` or `empty_image`; 413 `image_too_large`
 */
function imageOf(body: Uint8Array, maxImageBytes: number): Uint8Array<ArrayBuffer> {
  const refuse = (status: number, code: string, message: string) =>
    new HttpError(status, code, message, { accepted: ENQUEUE_ACCEPTED });
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch (error) {
    throw refuse(400, "bad_json", `Cannot parse the body as JSON: ${(error as Error).message}`);
  }
  const data = typeof parsed === "object" && parsed !== null
    ? (parsed as { data?: unknown }).data
    : undefined;
  if (typeof data !== "string") {
    const seen = data === undefined ? "no such field" : `a value of type ${typeOf(data)}`;
    throw refuse(
      400,
      "bad_json",
      `Cannot find the image: expected an object with a string field "data" holding base64, ` +
        `got ${seen}`,
    );
  }

  // Clients paste data URLs and wrap long base64 text in lines.
  const text = withoutDataUrl(data, refuse).replace(/\s+/g, "");
  let image: Uint8Array<ArrayBuffer>;
  try {
    image = Uint8Array.fromBase64(text);
  } catch {
    throw refuse(
      400,
      "bad_base64",
      'Cannot decode "data": it is not valid base64 (A-Z, a-z, 0-9, +, / and = padding)',
    );
  }
  if (image.length === 0) {
    throw refuse(400, "empty_image", 'Cannot classify an empty image: "data" decodes to 0 bytes');
  }
  if (image.length > maxImageBytes) {
    throw refuse(
      413,
      "image_too_large",
      `Cannot accept the image: it may be at most ${maxImageBytes} bytes, got ${image.length}`,
    );
  }
  return image;
}

/** Media types a data URL prefix may name: the replica reads the format from the bytes. */
const DATA_URL_TYPES = "image/* or application/octet-stream";

/**
 * Strips a `data:<type>;base64,` prefix.
 *
 * @throws {HttpError} 400 `bad_data_url` when the prefix names another media
 *   type or is not base64
 */
function withoutDataUrl(
  data: string,
  refuse: (status: number, code: string, message: string) => HttpError,
): string {
  // Scheme, media type and "base64" are all case-insensitive (RFC 2397, RFC 2045).
  if (data.slice(0, 5).toLowerCase() !== "data:") return data;
  const comma = data.indexOf(",");
  const head = (comma < 0 ? data : data.slice(0, comma)).slice(5).toLowerCase();
  const parts = head.split(";").map((part) => part.trim());
  const type = parts[0];
  const base64 = parts.at(-1) === "base64";
  const imageType = type.startsWith("image/") || type === "application/octet-stream";
  if (comma >= 0 && base64 && imageType) return data.slice(comma + 1);
  throw refuse(
    400,
    "bad_data_url",
    `Cannot take the data URL "data:${head.slice(0, 60)},": expected ` +
      `"data:<${DATA_URL_TYPES}>;base64,"` + ` followed by the base64 image`,
  );
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "array" : typeof value;
}

/** @returns the 503 answer for a job the store cannot take */
function storeRefusal(refusal: Extract<Admission, { ok: false }>): HttpError {
  const headers = { "retry-after": String(refusal.retryAfterSeconds) };
  if (refusal.bound === "closed") {
    return new HttpError(
      503,
      "shutting_down",
      "The dispatcher is shutting down and takes no new jobs; retry on another instance",
      { headers },
    );
  }
  const what = refusal.bound === "entries" ? "jobs" : "bytes of results";
  return new HttpError(
    503,
    "results_full",
    `Cannot take the job: the result store holds its limit of ${refusal.limit} ${what}; ` +
      `retry after ${refusal.retryAfterSeconds} s`,
    { headers },
  );
}

/** The one error path: refusals become their JSON answer, anything else a logged 500. */
function errorResponse(error: unknown, logger: Logger): Response {
  if (error instanceof HttpError) {
    if (logger.debugEnabled) logger.debug("refused", { code: error.code, reason: error.message });
    return error.response();
  }
  logger.error("request failed", { error });
  return new HttpError(500, "internal", "The dispatcher failed; see its log").response();
}

import assert from "node:assert/strict";
import { Hono } from "hono";
import { type AsyncApi, envelopeLimit, mountAsyncApi, type UploadBudget } from "./async_api.ts";
import { BodyBudget } from "./body_budget.ts";
import type { JobProgress } from "./pending_timeout.ts";
import { ResultStore, type ResultStoreOptions } from "./result_store.ts";
import { memoryLogger } from "./_test_support.ts";

/** One call of the stub `submit`, answered by the test when it chooses. */
interface Call {
  image: Uint8Array;
  contentType: string | null;
  signal: AbortSignal;
  progress: JobProgress;
  answer: PromiseWithResolvers<Response>;
}

interface Harness {
  url: string;
  clock: { now: number };
  store: ResultStore;
  api: AsyncApi;
  calls: Call[];
  lines: Record<string, unknown>[];
  /** Resolves once the store holds `count` finished jobs (done or failed). */
  finished(count: number): Promise<void>;
  enqueue(body: BodyInit | null, headers?: Record<string, string>): Promise<Response>;
  result(id: string): Promise<Response>;
  close(): Promise<void>;
}

interface HarnessOptions {
  store?: ResultStoreOptions;
  maxBodyBytes?: number;
  uploads?: UploadBudget;
}

/** The routes on a real loopback server, over a stub `submit` and a hand-moved clock. */
async function harness(options: HarnessOptions = {}): Promise<Harness> {
  const clock = { now: 1_000_000 };
  let waiter: { count: number; reached: () => void } | undefined;
  const store = new ResultStore({
    sweepIntervalMs: 0,
    now: () => clock.now,
    ...options.store,
    onChange: ({ done, failed }) => {
      if (waiter && done + failed >= waiter.count) waiter.reached();
    },
  });
  const calls: Call[] = [];
  const { logger, lines } = memoryLogger();
  const app = new Hono();
  const api = mountAsyncApi(app, {
    store,
    logger,
    maxBodyBytes: options.maxBodyBytes ?? 300,
    uploads: options.uploads,
    submit: (image, contentType, signal, progress) => {
      const answer = Promise.withResolvers<Response>();
      // Like a real fetch, the stub gives up when its signal aborts.
      signal.addEventListener("abort", () => answer.reject(signal.reason), { once: true });
      calls.push({ image, contentType, signal, progress, answer });
      return answer.promise;
    },
  });
  const listening = Promise.withResolvers<number>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: ({ port }) => listening.resolve(port) },
    app.fetch,
  );
  const url = `http://127.0.0.1:${await listening.promise}`;
  return {
    url,
    clock,
    store,
    api,
    calls,
    lines,
    finished: (count) => {
      const { done, failed } = store.counts();
      if (done + failed >= count) return Promise.resolve();
      const reached = Promise.withResolvers<void>();
      waiter = { count, reached: reached.resolve };
      return reached.promise;
    },
    enqueue: (body, headers = { "content-type": "application/json" }) =>
      fetch(`${url}/enqueue`, { method: "POST", body, headers }),
    result: (id) => fetch(`${url}/result/${id}`),
    close: async () => {
      store.close();
      await api.settled();
      await server.shutdown();
    },
  };
}

function envelope(bytes: number[] | Uint8Array): string {
  return JSON.stringify({ data: Uint8Array.from(bytes).toBase64() });
}

/** Enqueues `bytes` and returns the job id, checking the 202 answer. */
async function accepted(h: Harness, bytes: number[] = [0xff, 0xd8, 0xff, 1]): Promise<string> {
  const response = await h.enqueue(envelope(bytes));
  assert.equal(response.status, 202);
  const body = await response.json();
  assert.equal(response.headers.get("location"), body.result_url);
  return body.id;
}

async function expectError(response: Response, status: number, code: string) {
  assert.equal(response.status, status);
  const body = await response.json();
  assert.equal(body.error, code, JSON.stringify(body));
  return body;
}

Deno.test("POST /enqueue answers 202 with an id while submit still runs, then done", async () => {
  const h = await harness();
  try {
    const response = await h.enqueue(envelope([0xff, 0xd8, 0xff, 7]));
    assert.equal(response.status, 202);
    const body = await response.json();
    assert.match(body.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(body, { id: body.id, status: "pending", result_url: `/result/${body.id}` });

    assert.equal(h.calls.length, 1);
    assert.deepEqual([...h.calls[0].image], [0xff, 0xd8, 0xff, 7]);
    assert.equal(h.calls[0].contentType, "application/octet-stream");
    assert.equal(h.api.running, 1);

    const pending = await h.result(body.id);
    assert.equal(pending.status, 200);
    assert.equal(pending.headers.get("cache-control"), "no-store");
    assert.deepEqual(await pending.json(), { id: body.id, status: "pending" });

    const model = { predictions: [{ label: "tabby", score: 0.75 }], model: { name: "resnet18" } };
    h.calls[0].answer.resolve(Response.json(model));
    await h.api.settled();
    const done = await h.result(body.id);
    assert.equal(done.status, 200);
    assert.match(done.headers.get("content-type") ?? "", /application\/json/);
    assert.deepEqual(await done.json(), { id: body.id, status: "done", result: model });
  } finally {
    await h.close();
  }
});

Deno.test("GET /result reports a failed job with its status, code and message", async () => {
  const h = await harness();
  try {
    const refused = await accepted(h);
    h.calls[0].answer.resolve(
      Response.json({ error: "no_replica", message: "No replica is ready" }, { status: 503 }),
    );
    const badImage = await accepted(h);
    h.calls[1].answer.resolve(new Response("not an image", { status: 400 }));
    const thrown = await accepted(h);
    h.calls[2].answer.reject(new Error("socket closed by peer"));
    const notJson = await accepted(h);
    h.calls[3].answer.resolve(new Response("<html>", { status: 200 }));
    await h.api.settled();

    const error = async (id: string) => {
      const response = await h.result(id);
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.equal(body.status, "failed");
      assert.equal(body.id, id);
      return body.error;
    };
    assert.deepEqual(await error(refused), {
      status: 503,
      code: "no_replica",
      message: "No replica is ready",
    });
    assert.deepEqual(await error(badImage), {
      status: 400,
      code: "http_400",
      message: "not an image",
    });
    assert.deepEqual(await error(thrown), {
      status: 500,
      code: "internal",
      message: "The dispatcher failed while classifying the image; see its log",
    });
    assert.equal((await error(notJson)).code, "bad_result");
    // Only the unexpected failure is logged, with its cause.
    const logged = h.lines.filter((line) => line.level === "error");
    assert.equal(logged.length, 1);
    assert.equal(logged[0].id, thrown);
    assert.deepEqual(logged[0].error, { name: "Error", message: "socket closed by peer" });
  } finally {
    await h.close();
  }
});

Deno.test("GET /result answers 404 after the TTL and for unknown ids", async () => {
  const h = await harness({ store: { ttlMs: 60_000 } });
  try {
    const id = await accepted(h);
    h.calls[0].answer.resolve(Response.json({ predictions: [] }));
    await h.api.settled();
    h.clock.now += 59_999;
    assert.equal((await (await h.result(id)).json()).status, "done");
    h.clock.now += 1;
    const gone = await expectError(await h.result(id), 404, "unknown_job");
    assert.match(gone.message, /kept 60 s after the job finishes/);
    await expectError(await h.result(crypto.randomUUID()), 404, "unknown_job");
    await expectError(await h.result("not-a-job"), 404, "unknown_job");
  } finally {
    await h.close();
  }
});

Deno.test("a job pending past its deadline fails with 504 and its submit is aborted", async () => {
  const h = await harness({ store: { pendingTimeoutMs: 10_000 } });
  try {
    const id = await accepted(h);
    h.clock.now += 10_000;
    const body = await (await h.result(id)).json();
    assert.equal(body.status, "failed");
    assert.equal(body.error.status, 504);
    assert.equal(body.error.code, "pending_timeout");
    assert.match(body.error.message, /--pending-timeout \(10000 ms\): it was waiting to be/);
    assert.match(body.error.message, /enqueue fewer jobs at once, add replicas/);
    assert.equal(h.calls[0].signal.aborted, true);
    await h.api.settled();
    // The abort is the store's doing, not a fault: nothing is logged as an error.
    assert.deepEqual(h.lines.filter((line) => line.level === "error"), []);
  } finally {
    await h.close();
  }
});

Deno.test("a job timed out by the store says where its dispatch had got to", async () => {
  const h = await harness({ store: { pendingTimeoutMs: 3_000 } });
  try {
    const id = await accepted(h);
    const { progress } = h.calls[0];
    progress.stage = "replica";
    progress.replica = "127.0.0.1:9";
    progress.refusals = 2;
    progress.lastRefusal = "503 queue_full: full";
    h.clock.now += 3_000;
    const { error } = await (await h.result(id)).json();
    assert.equal(error.status, 504);
    assert.equal(error.code, "pending_timeout");
    assert.match(error.message, /it was at replica 127\.0\.0\.1:9/);
    assert.match(error.message, /2 attempt\(s\) found no room, the last got 503 queue_full/);
    assert.doesNotMatch(error.message, /x-deadline-ms/);
  } finally {
    await h.close();
  }
});

Deno.test("POST /enqueue answers 503 with Retry-After when the store is full", async () => {
  const h = await harness({ store: { maxEntries: 2, ttlMs: 30_000 } });
  try {
    const first = await accepted(h);
    await accepted(h);
    h.calls[0].answer.resolve(Response.json({ predictions: [] }));
    await h.finished(1);
    h.clock.now += 12_000;

    const full = await h.enqueue(envelope([1, 2, 3]));
    assert.equal(full.headers.get("retry-after"), "18");
    const body = await expectError(full, 503, "results_full");
    assert.match(body.message, /limit of 2 jobs/);
    assert.equal(h.calls.length, 2);

    // Once the finished job expires, its slot takes a new job; the pending one stays.
    h.clock.now += 18_000;
    await expectError(await h.result(first), 404, "unknown_job");
    await accepted(h);
    assert.equal(h.calls.length, 3);
  } finally {
    await h.close();
  }
});

Deno.test("POST /enqueue limits the upload and the decoded image", async (t) => {
  const h = await harness({ maxBodyBytes: 300 });
  const limit = envelopeLimit(300);
  try {
    await t.step("an image of exactly the limit is accepted", async () => {
      await accepted(h, new Array(300).fill(7));
      assert.equal(h.calls.at(-1)?.image.length, 300);
    });

    await t.step("one byte more is refused after decoding, naming both sizes", async () => {
      const body = await expectError(
        await h.enqueue(envelope(new Uint8Array(301))),
        413,
        "image_too_large",
      );
      assert.match(body.message, /at most 300 bytes, got 301/);
    });

    await t.step("a declared length over the envelope limit is refused unread", async () => {
      const text = JSON.stringify({ data: "A".repeat(limit) });
      const body = await expectError(await h.enqueue(text), 413, "body_too_large");
      assert.match(body.message, new RegExp(`at most ${limit} bytes .* got ${text.length}`));
    });

    await t.step("a chunked body is cut off once it passes the limit", async () => {
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent > 4 * limit) return controller.close();
          sent += 500;
          controller.enqueue(new TextEncoder().encode("A".repeat(500)));
        },
      });
      const body = await expectError(await h.enqueue(stream), 413, "body_too_large");
      assert.match(body.message, new RegExp(`got more than ${limit}`));
    });
    assert.equal(h.calls.length, 1);
  } finally {
    await h.close();
  }
});

Deno.test("POST /enqueue refuses bad envelopes, saying what it accepts", async (t) => {
  const h = await harness();
  const cases: [string, BodyInit | null, number, string, RegExp][] = [
    ["text that is not JSON", "data=abc", 400, "bad_json", /Cannot parse the body as JSON/],
    ["no body at all", null, 400, "bad_json", /Cannot parse the body as JSON/],
    ["an object without data", "{}", 400, "bad_json", /got no such field/],
    ["data that is a number", '{"data": 5}', 400, "bad_json", /got a value of type number/],
    ["a JSON array", "[1]", 400, "bad_json", /got no such field/],
    ["JSON null", "null", 400, "bad_json", /got no such field/],
    ["data that is not base64", '{"data": "!!!"}', 400, "bad_base64", /not valid base64/],
    ["empty data", '{"data": ""}', 400, "empty_image", /decodes to 0 bytes/],
  ];
  try {
    for (const [name, body, status, code, message] of cases) {
      await t.step(name, async () => {
        const answer = await expectError(await h.enqueue(body), status, code);
        assert.match(answer.message, message);
        assert.match(answer.accepted[0], /application\/json/);
      });
    }
    await t.step("a raw image body is pointed to POST /classify", async () => {
      const answer = await expectError(
        await h.enqueue(new Uint8Array([0xff, 0xd8]), { "content-type": "image/jpeg" }),
        415,
        "unsupported_content_type",
      );
      assert.match(answer.message, /POST \/classify/);
    });
    await t.step("a body without Content-Type is told so in plain words", async () => {
      const answer = await expectError(
        await h.enqueue(new Blob([envelope([1, 2, 3])]), {}),
        415,
        "unsupported_content_type",
      );
      assert.match(answer.message, /^Cannot read the body: the request has no Content-Type; /);
    });
    const types: [string, Record<string, string>][] = [
      ["no content type", {}],
      ["text/plain", { "content-type": "text/plain;charset=UTF-8" }],
      ["a form", { "content-type": "application/x-www-form-urlencoded" }],
      ["a JSON look-alike", { "content-type": "application/jsonp" }],
    ];
    for (const [name, headers] of types) {
      await t.step(`a JSON body sent with ${name} gets 415`, async () => {
        const answer = await expectError(
          await h.enqueue(envelope([1, 2, 3]), headers),
          415,
          "unsupported_content_type",
        );
        assert.match(answer.message, /application\/json/);
        assert.match(answer.accepted[0], /Content-Type: application\/json/);
        assert.doesNotMatch(answer.message, /Cannot read no /);
      });
    }
    const urls = ["data:text/plain;base64,AAEC", "data:;base64,AAEC", "data:image/png,AAEC"];
    for (const data of urls) {
      await t.step(`a data URL ${data.slice(0, 20)}... gets 400 bad_data_url`, async () => {
        const answer = await expectError(
          await h.enqueue(JSON.stringify({ data })),
          400,
          "bad_data_url",
        );
        assert.match(answer.message, /image\/\* or application\/octet-stream/);
      });
    }
    assert.equal(h.calls.length, 0);
  } finally {
    await h.close();
  }
});

Deno.test("POST /enqueue reads data URLs and base64 wrapped in lines", async () => {
  const h = await harness();
  try {
    const text = JSON.stringify({ data: "data:image/png;base64,AAEC\r\nAwQF\n" });
    const response = await h.enqueue(text, { "content-type": "application/json; charset=utf-8" });
    assert.equal(response.status, 202);
    await response.body?.cancel();
    assert.deepEqual([...h.calls[0].image], [0, 1, 2, 3, 4, 5]);
    const raw = JSON.stringify({ data: "data:application/octet-stream;base64,BgcI" });
    const second = await h.enqueue(raw, { "content-type": "Application/JSON" });
    assert.equal(second.status, 202);
    await second.body?.cancel();
    assert.deepEqual([...h.calls[1].image], [6, 7, 8]);
    // RFC 2397 and media types are case-insensitive: upper case is the same URL.
    const shouted = JSON.stringify({ data: "DATA:IMAGE/JPEG;BASE64,CQoL" });
    const third = await h.enqueue(shouted);
    assert.equal(third.status, 202);
    await third.body?.cancel();
    assert.deepEqual([...h.calls[2].image], [9, 10, 11]);
  } finally {
    await h.close();
  }
});

Deno.test("POST /enqueue holds upload bytes until the job settles", async () => {
  const uploads = new BodyBudget(10_000);
  const h = await harness({ uploads });
  try {
    const text = envelope([1, 2, 3]);
    await accepted(h, [1, 2, 3]);
    assert.equal(uploads.used, text.length);
    h.calls[0].answer.resolve(Response.json({ predictions: [] }));
    await h.api.settled();
    assert.equal(uploads.used, 0);

    const hog = uploads.tryTake(10_000);
    const busy = await h.enqueue(text);
    assert.equal(busy.headers.get("retry-after"), "1");
    await expectError(busy, 503, "busy");
    hog?.();
    // A refused upload gives back what it reserved.
    assert.equal(uploads.used, 0);
  } finally {
    await h.close();
  }
});

Deno.test("mountAsyncApi rejects a body limit below one byte", () => {
  const store = new ResultStore({ sweepIntervalMs: 0 });
  const { logger } = memoryLogger();
  assert.throws(
    () =>
      mountAsyncApi(new Hono(), {
        store,
        logger,
        maxBodyBytes: 0,
        submit: () => Promise.resolve(new Response()),
      }),
    /maxBodyBytes must be an integer >= 1, got 0/,
  );
  store.close();
});

Deno.test("the routes and a closed store leave nothing that keeps the process alive", async () => {
  // Deno's test sanitizers do not report a forgotten setInterval, so a child
  // process runs a whole job and must then exit by itself.
  const script = `
    import { Hono } from "hono";
    import { mountAsyncApi } from ${JSON.stringify(import.meta.resolve("./async_api.ts"))};
    import { ResultStore } from ${JSON.stringify(import.meta.resolve("./result_store.ts"))};
    const store = new ResultStore({ sweepIntervalMs: 10 });
    const app = new Hono();
    const logger = { debug() {}, info() {}, warn() {}, error() {}, debugEnabled: false };
    logger.child = () => logger;
    const api = mountAsyncApi(app, {
      store, logger, maxBodyBytes: 100, submit: () => Promise.resolve(Response.json({ ok: 1 })),
    });
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
    const url = "http://127.0.0.1:" + server.addr.port;
    const sent = await fetch(url + "/enqueue", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"data": "AAEC"}',
    });
    const { id } = await sent.json();
    await api.settled();
    const result = await (await fetch(url + "/result/" + id)).json();
    store.close();
    await server.shutdown();
    Deno.stdout.writeSync(new TextEncoder().encode(result.status));
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    cwd: new URL("..", import.meta.url),
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  });
  const { code, stdout, stderr, signal } = await child.output();
  const errors = new TextDecoder().decode(stderr);
  assert.equal(signal, null, `the child was still running after 30 s: ${errors}`);
  assert.equal(code, 0, errors);
  assert.equal(new TextDecoder().decode(stdout), "done");
});

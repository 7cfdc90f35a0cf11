import assert from "node:assert/strict";
import { freePort } from "@common/free_port.ts";
import { fetchModel, FetchModelError, type FetchProgress } from "./fetch_model.ts";
import { sha256Hex } from "./sha256.ts";

// Large enough that the body arrives in many reads, so progress can be throttled.
const PAYLOAD = new Uint8Array(4 * 1024 * 1024).map((_, index) =>
  (index * 7 + (index >> 12)) % 256
);
const PAYLOAD_SHA = sha256Hex(PAYLOAD);
const WRONG = PAYLOAD.slice();
WRONG[WRONG.length >> 1] ^= 0xff;

/** A loopback server with one route per behaviour under test. */
function startServer() {
  const release = Promise.withResolvers<void>();
  const firstChunkSent = Promise.withResolvers<void>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      switch (new URL(request.url).pathname) {
        case "/model":
          return new Response(PAYLOAD);
        case "/wrong":
          return new Response(WRONG);
        case "/short":
          return new Response(PAYLOAD.subarray(1000));
        case "/endless":
          // No Content-Length: the client can only notice the excess while reading.
          return new Response(
            new ReadableStream({
              pull(controller) {
                controller.enqueue(PAYLOAD.subarray(0, 1 << 20));
              },
            }),
          );
        case "/drip": {
          // Twelve pieces 50 ms apart: slow overall, but never silent for long.
          let piece = 0;
          const size = Math.ceil(PAYLOAD.length / 12);
          return new Response(
            new ReadableStream({
              async pull(controller) {
                await new Promise((resolve) => setTimeout(resolve, 50));
                controller.enqueue(PAYLOAD.subarray(piece * size, (piece + 1) * size));
                if (++piece * size >= PAYLOAD.length) controller.close();
              },
            }),
          );
        }
        case "/stall-headers":
          await release.promise;
          return new Response("late");
        case "/stall-body":
          return new Response(
            new ReadableStream({
              start(controller) {
                controller.enqueue(PAYLOAD.subarray(0, 65536));
                firstChunkSent.resolve();
              },
              async pull(controller) {
                await release.promise;
                controller.close();
              },
            }),
            { headers: { "content-length": String(PAYLOAD.length) } },
          );
        default:
          return new Response("no such model", { status: 404 });
      }
    },
  );
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    firstChunkSent: firstChunkSent.promise,
    async close() {
      release.resolve();
      await server.shutdown();
    },
  };
}

async function names(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) found.push(entry.name);
  return found.sort();
}

async function rejectsWith(
  promise: Promise<unknown>,
  reason: string,
  message: RegExp,
): Promise<FetchModelError> {
  const error = await promise.then(
    () => assert.fail("expected the download to fail"),
    (error: unknown) => error,
  );
  assert.ok(error instanceof FetchModelError, `not a FetchModelError: ${error}`);
  assert.equal(error.reason, reason);
  assert.match(error.message, message);
  return error;
}

Deno.test("fetchModel()", async (t) => {
  const server = startServer();
  const dir = await Deno.makeTempDir();
  const out = `${dir}/models/model.onnx`;
  const options = { outPath: out, sha256: PAYLOAD_SHA, bytes: PAYLOAD.length, timeoutMs: 5000 };

  try {
    await t.step("saves a file whose size and SHA-256 match", async () => {
      const result = await fetchModel({ ...options, url: `${server.base}/model` });
      assert.equal(result.path, out);
      assert.equal(result.bytes, PAYLOAD.length);
      assert.equal(result.sha256, PAYLOAD_SHA);
      assert.equal(sha256Hex(await Deno.readFile(out)), PAYLOAD_SHA);
      assert.deepEqual(await names(`${dir}/models`), ["model.onnx"]);
    });

    await t.step("accepts the checksum in upper case and no published size", async () => {
      const result = await fetchModel({
        ...options,
        url: `${server.base}/model`,
        sha256: PAYLOAD_SHA.toUpperCase(),
        bytes: undefined,
      });
      assert.equal(result.sha256, PAYLOAD_SHA);
    });

    await t.step("reports progress at most once per interval of its clock", async () => {
      // Each clock reading advances 400 ms, so every third read is due for a report.
      let clock = 0;
      const reports: FetchProgress[] = [];
      await fetchModel({
        ...options,
        url: `${server.base}/model`,
        now: () => (clock += 400),
        onProgress: (progress) => reports.push(progress),
      });
      assert.ok(reports.length >= 3, `only ${reports.length} reports for a body of many reads`);
      for (const [index, report] of reports.entries()) {
        assert.equal(report.totalBytes, PAYLOAD.length);
        assert.ok(report.receivedBytes > 0 && report.receivedBytes <= PAYLOAD.length);
        const previous = reports[index - 1];
        if (previous) {
          assert.ok(report.elapsedMs - previous.elapsedMs >= 1000, JSON.stringify(reports));
          assert.ok(report.receivedBytes > previous.receivedBytes);
        }
      }

      // A clock that barely moves yields no report at all.
      const none: FetchProgress[] = [];
      let slow = 0;
      await fetchModel({
        ...options,
        url: `${server.base}/model`,
        now: () => (slow += 0.001),
        onProgress: (progress) => none.push(progress),
      });
      assert.deepEqual(none, []);
    });

    await t.step("deletes wrong bytes and keeps the file already in place", async () => {
      await Deno.writeTextFile(out, "previous model");
      const error = await rejectsWith(
        fetchModel({ ...options, url: `${server.base}/wrong` }),
        "checksum",
        /has the wrong SHA-256: expected [0-9a-f]{64}, got [0-9a-f]{64}; nothing was saved$/,
      );
      assert.equal(error.expected, PAYLOAD_SHA);
      assert.equal(error.actual, sha256Hex(WRONG));
      assert.equal(await Deno.readTextFile(out), "previous model");
      assert.deepEqual(await names(`${dir}/models`), ["model.onnx"]);
    });

    await t.step("refuses a body whose announced size differs, before reading it", async () => {
      const error = await rejectsWith(
        fetchModel({ ...options, url: `${server.base}/short` }),
        "size",
        /wrong size: expected 4194304 bytes, the server announces 4193304; nothing was saved$/,
      );
      assert.equal(error.actual, String(PAYLOAD.length - 1000));
      assert.deepEqual(await names(`${dir}/models`), ["model.onnx"]);
    });

    await t.step("stops reading a body that grows past the published size", async () => {
      await rejectsWith(
        fetchModel({ ...options, url: `${server.base}/endless` }),
        "size",
        /wrong size: expected 4194304 bytes, received at least \d+; nothing was saved$/,
      );
      assert.deepEqual(await names(`${dir}/models`), ["model.onnx"]);
    });

    await t.step("times out when no answer comes", async () => {
      const started = performance.now();
      await rejectsWith(
        fetchModel({ ...options, url: `${server.base}/stall-headers`, timeoutMs: 300 }),
        "timeout",
        /^Cannot download http:\/\/127\.0\.0\.1:\d+\/stall-headers: nothing arrived for 0\.3 s/,
      );
      assert.ok(performance.now() - started >= 300);
      assert.deepEqual(await names(`${dir}/models`), ["model.onnx"]);
    });

    await t.step("times out when the body stops midway", async () => {
      await rejectsWith(
        fetchModel({ ...options, url: `${server.base}/stall-body`, timeoutMs: 300 }),
        "timeout",
        /stall-body: nothing arrived for 0\.3 s/,
      );
      assert.deepEqual(await names(`${dir}/models`), ["model.onnx"]);
    });

    await t.step("lets a slow download run past the timeout while data keeps coming", async () => {
      const started = performance.now();
      const result = await fetchModel({ ...options, url: `${server.base}/drip`, timeoutMs: 400 });
      assert.equal(result.sha256, PAYLOAD_SHA);
      assert.ok(performance.now() - started > 400, "the drip should outlast one timeout");
    });

    await t.step("stops and cleans up when cancelled", async () => {
      const controller = new AbortController();
      const download = fetchModel({
        ...options,
        url: `${server.base}/stall-body`,
        timeoutMs: 60_000,
        signal: controller.signal,
      });
      await server.firstChunkSent;
      controller.abort();
      await rejectsWith(download, "aborted", /stall-body was cancelled; nothing was saved$/);
      assert.deepEqual(await names(`${dir}/models`), ["model.onnx"]);
    });

    await t.step("names the HTTP status of a missing file", async () => {
      const error = await rejectsWith(
        fetchModel({ ...options, url: `${server.base}/missing.onnx` }),
        "http",
        /^Cannot download http:\/\/[\d.:]+\/missing\.onnx: the server answered 404 Not Found$/,
      );
      assert.equal(error.status, 404);
      assert.deepEqual(await names(`${dir}/models`), ["model.onnx"]);
    });

    await t.step("says the connection was refused when nothing listens", async () => {
      const port = freePort();
      await rejectsWith(
        fetchModel({ ...options, url: `http://127.0.0.1:${port}/model.onnx` }),
        "network",
        new RegExp(`^Cannot download http://127\\.0\\.0\\.1:${port}/model\\.onnx: .*refused`, "i"),
      );
      assert.deepEqual(await names(`${dir}/models`), ["model.onnx"]);
    });

    await t.step("rejects malformed options before any I/O", async () => {
      await assert.rejects(
        fetchModel({ ...options, url: "ftp://127.0.0.1/model.onnx" }),
        new TypeError(
          'Cannot download model: expected an http or https URL, got "ftp://127.0.0.1/model.onnx"',
        ),
      );
      await assert.rejects(
        fetchModel({ ...options, url: `${server.base}/model`, sha256: "abc" }),
        new TypeError('Cannot verify model: expected a SHA-256 of 64 hex digits, got "abc"'),
      );
      await assert.rejects(
        fetchModel({ ...options, url: `${server.base}/model`, timeoutMs: 0 }),
        new RangeError("Cannot download model: timeoutMs must be from 1 to 2147483647, got 0"),
      );
      assert.deepEqual(await names(`${dir}/models`), ["model.onnx"]);
    });
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

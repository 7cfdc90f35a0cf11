import assert from "node:assert/strict";
import { createLogger } from "@common/log.ts";
import { Classifier } from "./classifier.ts";
import { parseConfig } from "./config.ts";
import { type ModelService, startModelService } from "./server.ts";
import { sharedImage, testModelPath } from "./_test_model.ts";

const logger = createLogger({ component: "model-test", level: "error" });
const classifier = await Classifier.load(await testModelPath(), 2);

async function withService(
  args: string[],
  body: (service: ModelService) => Promise<void>,
): Promise<void> {
  const config = parseConfig(["--port", "0", ...args], {}, () => false);
  const service = await startModelService(config, { logger, classifier });
  try {
    await body(service);
  } finally {
    await service.shutdown();
  }
}

function post(service: ModelService, body: BodyInit, type: string | null) {
  const headers = type === null ? undefined : { "content-type": type };
  return fetch(`${service.url}/infer`, { method: "POST", body, headers });
}

const tench = await sharedImage("imagenet-sample/n01440764_tench.JPEG");

Deno.test("POST /infer answers the top 5 classes of a JPEG", async () => {
  await withService([], async (service) => {
    const response = await post(service, tench, "image/jpeg");
    assert.equal(response.status, 200);
    const answer = await response.json();
    assert.equal(answer.predictions.length, 5);
    const probabilities = answer.predictions.map((p: { probability: number }) => p.probability);
    assert.deepEqual(probabilities, [...probabilities].sort((a, b) => b - a));
    assert.ok(probabilities.every((p: number) => p > 0 && p < 1));
    assert.ok(probabilities.reduce((s: number, p: number) => s + p, 0) <= 1 + 1e-9);
    for (const p of answer.predictions) assert.equal(typeof p.label, "string");
    assert.deepEqual(answer.model, { name: "resnet18-synthetic", weights: "synthetic" });
  });
});

Deno.test("POST /infer gives the same answer for raw bytes and for base64 JSON", async () => {
  await withService([], async (service) => {
    const raw = await (await post(service, tench, "image/jpeg")).json();
    const json = JSON.stringify({ data: tench.toBase64() });
    const wrapped = await (await post(service, json, "application/json")).json();
    assert.deepEqual(wrapped.predictions, raw.predictions);
    const dataUrl = JSON.stringify({ data: `data:image/jpeg;base64,${tench.toBase64()}` });
    const fromUrl = await (await post(service, dataUrl, "application/json")).json();
    assert.deepEqual(fromUrl.predictions, raw.predictions);
  });
});

Deno.test("POST /infer tells different photos apart", async () => {
  await withService([], async (service) => {
    const other = await sharedImage("imagenet-sample/n01534433_junco.JPEG");
    const a = await (await post(service, tench, "image/jpeg")).json();
    const b = await (await post(service, other, "image/jpeg")).json();
    assert.notDeepEqual(a.predictions, b.predictions);
  });
});

// Expected status per decoder engine; for refusals, the error code.
const EDGE_CASES: Array<[string, { sharp: number; imagescript: number }, string?]> = [
  ["animated.gif", { sharp: 200, imagescript: 200 }],
  ["cmyk.jpg", { sharp: 200, imagescript: 200 }],
  ["gray.png", { sharp: 200, imagescript: 200 }],
  ["gray16.png", { sharp: 200, imagescript: 200 }],
  ["palette.png", { sharp: 200, imagescript: 200 }],
  ["progressive.jpg", { sharp: 200, imagescript: 200 }],
  ["rgba-half-transparent.png", { sharp: 200, imagescript: 200 }],
  ["tiny-1x1.png", { sharp: 200, imagescript: 200 }],
  ["wide-2000x20.jpg", { sharp: 200, imagescript: 200 }],
  ["photo.webp", { sharp: 200, imagescript: 415 }, "unsupported_format"],
  ["photo.tiff", { sharp: 200, imagescript: 415 }, "unsupported_format"],
  ["photo.bmp", { sharp: 415, imagescript: 415 }, "unsupported_format"],
  ["empty.jpg", { sharp: 400, imagescript: 400 }, "empty_body"],
  ["not-an-image.jpg", { sharp: 400, imagescript: 400 }, "not_an_image"],
  ["truncated-half.jpg", { sharp: 400, imagescript: 400 }, "bad_image"],
  ["bomb-header-60000x60000.png", { sharp: 413, imagescript: 413 }, "too_many_pixels"],
  ["huge-dims-header.jpg", { sharp: 413, imagescript: 413 }, "too_many_pixels"],
];

for (const engine of ["sharp", "imagescript"] as const) {
  Deno.test(`POST /infer with ${engine} answers every edge case and stays up`, async (t) => {
    await withService(["--decoder", engine], async (service) => {
      for (const [name, statuses, code] of EDGE_CASES) {
        await t.step(name, async () => {
          const bytes = await sharedImage(`edge-cases/${name}`);
          const response = await post(service, bytes, "image/png");
          const answer = await response.json();
          assert.equal(response.status, statuses[engine], JSON.stringify(answer));
          if (statuses[engine] === 200) {
            assert.equal(answer.predictions.length, 5);
          } else {
            assert.equal(answer.error, code);
            assert.match(answer.message, /^Cannot /);
            assert.ok(answer.accepted.length > 0);
          }
        });
      }
      assert.equal((await post(service, tench, "image/jpeg")).status, 200);
    });
  });
}

Deno.test("POST /infer refuses wrong content types, bad JSON and big bodies", async (t) => {
  await withService(["--max-body-bytes", "1000"], async (service) => {
    const cases: Array<[string, BodyInit, string | null, number, string]> = [
      ["text/plain", "hello", "text/plain", 415, "unsupported_content_type"],
      ["no type", new Uint8Array([1, 2]), null, 415, "unsupported_content_type"],
      ["not JSON", "{data:", "application/json", 400, "bad_json"],
      ["no data", JSON.stringify({ image: "x" }), "application/json", 400, "bad_json"],
      ["bad base64", JSON.stringify({ data: "%%%" }), "application/json", 400, "bad_json"],
      ["too large", tench, "image/jpeg", 413, "body_too_large"],
    ];
    for (const [name, body, type, status, code] of cases) {
      await t.step(name, async () => {
        // A Blob has a length, so "no type" really sends no Content-Type.
        const payload = type === null ? new Blob([body as Uint8Array<ArrayBuffer>]) : body;
        const response = await post(service, payload, type);
        assert.equal(response.status, status);
        assert.equal((await response.json()).error, code);
      });
    }
  });
});

Deno.test("POST /infer refuses work beyond the queue with 503 and Retry-After", async () => {
  await withService(["--max-in-flight", "1", "--max-queue", "1"], async (service) => {
    const sent = Promise.all(Array.from({ length: 8 }, () => post(service, tench, "image/jpeg")));
    // While one image runs, the next waits in the queue: the gauge must show it.
    let queued = false;
    for (let i = 0; i < 200 && !queued; i++) {
      const text = await (await fetch(`${service.url}/metrics`)).text();
      queued = /^inference_queue_depth 1$/m.test(text);
    }
    const responses = await sent;
    assert.ok(queued, "inference_queue_depth never showed the waiting request");
    const statuses = responses.map((r) => r.status);
    await Promise.all(responses.map((r) => r.body?.cancel()));
    assert.ok(statuses.includes(200), `statuses ${statuses}`);
    assert.ok(statuses.includes(503), `statuses ${statuses}`);
    const refused = responses.find((r) => r.status === 503)!;
    assert.equal(refused.headers.get("retry-after"), "1");
  });
});

Deno.test("GET /readyz, /healthz, /info and /metrics describe the replica", async () => {
  await withService([], async (service) => {
    const ready = await (await fetch(`${service.url}/readyz`)).json();
    assert.equal(ready.status, "ready");
    assert.equal(ready.model.weights, "synthetic");
    assert.equal((await (await fetch(`${service.url}/healthz`)).json()).status, "ok");
    const info = await (await fetch(`${service.url}/info`)).json();
    assert.equal(info.threads, 2);
    assert.equal(typeof info.input, "string");

    await (await post(service, tench, "image/jpeg")).body?.cancel();
    await (await post(service, "x", "text/plain")).body?.cancel();
    const text = await (await fetch(`${service.url}/metrics`)).text();
    assert.match(text, /^inference_requests_total\{outcome="ok"\} 1$/m);
    assert.match(text, /^inference_requests_total\{outcome="bad_input"\} 1$/m);
    assert.match(text, /^inference_duration_seconds_count 1$/m);
    assert.match(text, /^inference_in_flight 0$/m);
    assert.match(text, /^inference_queue_depth 0$/m);
    assert.match(text, /^process_cpu_seconds_total /m);
    assert.match(text, /^model_info\{model="resnet18-synthetic",weights="synthetic",/m);
    const missing = await fetch(`${service.url}/nope`);
    assert.equal(missing.status, 404);
    assert.ok((await missing.json()).accepted.includes("POST /infer"));
  });
});

Deno.test("shutdown() turns readiness off and lets admitted requests finish", async () => {
  const config = parseConfig(["--port", "0"], {}, () => false);
  const service = await startModelService(config, { logger, classifier });
  const running = post(service, tench, "image/jpeg");
  // The request is admitted once the in-flight gauge says so.
  while (!/^inference_in_flight 1$/m.test(await (await fetch(`${service.url}/metrics`)).text())) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const stopped = service.shutdown();
  const answer = await running;
  assert.equal(answer.status, 200);
  await answer.body?.cancel();
  await stopped;
  await assert.rejects(fetch(`${service.url}/healthz`));
});

Deno.test("POST /infer answers 400, not 500, when the client stops mid-body", async () => {
  await withService([], async (service) => {
    const connection = await Deno.connect({ hostname: "127.0.0.1", port: service.port });
    const head = "POST /infer HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n" +
      "Content-Length: 100\r\n\r\nabc";
    await connection.write(new TextEncoder().encode(head));
    await connection.closeWrite();
    const reply = new TextDecoder().decode(await new Response(connection.readable).arrayBuffer());
    assert.match(reply, /^HTTP\/1\.1 400 /);
    assert.match(reply, /"error":"incomplete_body"/);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    assert.match(metrics, /^inference_requests_total\{outcome="error"\} 0$/m);
  });
});

Deno.test("POST /infer decodes a 36-megapixel image within the limits", async () => {
  const sharp = (await import("sharp")).default;
  const big = await sharp({
    create: { width: 6000, height: 6000, channels: 3, background: "#336699" },
  }).png().toBuffer().then((buffer) => new Uint8Array(buffer));
  await withService(["--max-pixels", "40000000"], async (service) => {
    const answers = await Promise.all([1, 2].map(() => post(service, big, "image/png")));
    assert.deepEqual(answers.map((a) => a.status), [200, 200]);
    await Promise.all(answers.map((a) => a.body?.cancel()));
  });
});

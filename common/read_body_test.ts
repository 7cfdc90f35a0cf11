import assert from "node:assert/strict";
import { HttpError } from "./http_error.ts";
import { readBody } from "./read_body.ts";

function streamed(chunks: Uint8Array[], end: "close" | "error" | "stall"): Request {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      if (end === "close") controller.close();
      if (end === "error") controller.error(new Error("connection reset"));
    },
  });
  return new Request("http://127.0.0.1/", { method: "POST", body });
}

function refusal(status: number, code: string) {
  return (error: unknown) => {
    assert.ok(error instanceof HttpError, String(error));
    assert.equal(error.status, status);
    assert.equal(error.code, code);
    return true;
  };
}

Deno.test("readBody joins the chunks of a body within the limit", async () => {
  const body = await readBody(streamed([new Uint8Array([1, 2]), new Uint8Array([3])], "close"), {
    maxBytes: 3,
  });
  assert.deepEqual([...body], [1, 2, 3]);
});

Deno.test("readBody refuses too much, declared or counted, naming the limit", async () => {
  const declared = new Request("http://127.0.0.1/", {
    method: "POST",
    body: "x".repeat(10),
    headers: { "content-length": "10" },
  });
  await assert.rejects(readBody(declared, { maxBytes: 5 }), (error: unknown) => {
    refusal(413, "body_too_large")(error);
    assert.deepEqual((error as HttpError).accepted, ["a body of at most 5 bytes"]);
    return true;
  });
  const chunked = streamed([new Uint8Array(4), new Uint8Array(4)], "close");
  await assert.rejects(readBody(chunked, { maxBytes: 5 }), refusal(413, "body_too_large"));
});

Deno.test("readBody answers 400 when the client stops sending mid-body", async () => {
  const broken = streamed([new Uint8Array(3)], "error");
  await assert.rejects(readBody(broken, { maxBytes: 100 }), refusal(400, "incomplete_body"));
});

Deno.test("readBody gives up on a body that trickles past the timeout", async () => {
  const stalled = streamed([new Uint8Array(3)], "stall");
  await assert.rejects(
    readBody(stalled, { maxBytes: 100, timeoutMs: 30 }),
    refusal(408, "body_timeout"),
  );
});

import assert from "node:assert/strict";
import { type Dispatcher } from "./server.ts";
import { RawConnection } from "./_raw_http.ts";
import { type FakeReplica, startFakeReplica, startTestDispatcher, until } from "./_test_support.ts";

function start(replica: FakeReplica, args: string[]) {
  return startTestDispatcher([replica], { args });
}

const request = (headers: string, body: string) =>
  `POST /classify HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n${body}`;

/** A small valid request, to show that a connection (or the server) still works. */
const NEXT = request("Content-Length: 3\r\n", "abc");

/** Sends `NEXT` on a fresh connection and expects the replica's answer. */
async function freshRequestWorks(dispatcher: Dispatcher): Promise<void> {
  const connection = await RawConnection.open(dispatcher.port);
  try {
    await connection.send(NEXT);
    assert.equal((await connection.answer()).status, 200);
  } finally {
    connection.close();
  }
}

Deno.test("POST /classify with odd Content-Length headers (raw TCP)", async (t) => {
  const replica = await startFakeReplica();
  const { dispatcher, close } = await start(replica, ["--max-body-bytes", "1000"]);
  try {
    // What Deno's HTTP server itself does: it refuses each of these with 400
    // and closes the connection; the dispatcher never sees the request.
    const refusedByDeno: [string, string][] = [
      ["leading plus", "Content-Length: +5\r\n"],
      ["hex", "Content-Length: 0x5\r\n"],
      ["exponent", "Content-Length: 5e0\r\n"],
      ["negative", "Content-Length: -5\r\n"],
      ["two different values", "Content-Length: 5\r\nContent-Length: 6\r\n"],
      ["a list in one header", "Content-Length: 5, 5\r\n"],
      ["beyond 64 bits", "Content-Length: 99999999999999999999999\r\n"],
      ["with chunked encoding", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"],
    ];
    for (const [name, headers] of refusedByDeno) {
      await t.step(`${name}: 400 and a clean close`, async () => {
        const connection = await RawConnection.open(dispatcher.port);
        try {
          await connection.send(request(headers, "hello"));
          const answer = await connection.answer();
          assert.equal(answer.status, 400);
          assert.equal(answer.headers.get("connection"), "close");
          assert.equal(await connection.closedWithin(2000), true);
        } finally {
          connection.close();
        }
        await freshRequestWorks(dispatcher);
      });
    }
    assert.equal(replica.seen.length, refusedByDeno.length, "only the follow-up requests");

    await t.step("spaces around the value: accepted as the number", async () => {
      const connection = await RawConnection.open(dispatcher.port);
      try {
        await connection.send(request("Content-Length:  5  \r\n", "hello"));
        assert.equal((await connection.answer()).status, 200);
        assert.equal(replica.seen.at(-1)?.bytes, 5);
      } finally {
        connection.close();
      }
    });

    // Deno joins two equal headers into "N, N"; the dispatcher reads that as N.
    await t.step("the same value twice, over the limit: 413 before the body", async () => {
      const seen = replica.seen.length;
      const connection = await RawConnection.open(dispatcher.port);
      try {
        const headers = "Content-Length: 2000\r\nContent-Length: 2000\r\n";
        await connection.send(request(headers, "x".repeat(2000)));
        const answer = await connection.answer();
        assert.equal(answer.status, 413);
        assert.match(JSON.parse(answer.body).message, /at most 1000 bytes, got 2000$/);
      } finally {
        connection.close();
      }
      assert.equal(replica.seen.length, seen);
      await freshRequestWorks(dispatcher);
    });
  } finally {
    await close();
  }
});

Deno.test("POST /classify answers 413 before reading, keeping the connection sane", async (t) => {
  const replica = await startFakeReplica();
  const { dispatcher, close } = await start(replica, ["--max-body-bytes", "1000"]);
  try {
    await t.step("declared too large, whole body sent: answer, then a clean close", async () => {
      const connection = await RawConnection.open(dispatcher.port);
      try {
        await connection.send(request("Content-Length: 200000\r\n", "x".repeat(200_000)));
        const answer = await connection.answer();
        assert.equal(answer.status, 413);
        assert.equal(JSON.parse(answer.body).error, "body_too_large");
        // Deno cannot keep a connection whose body it did not read: it says so.
        assert.equal(answer.headers.get("connection"), "close");
        assert.equal(await connection.closedWithin(2000), true, "closed, not reset");
      } finally {
        connection.close();
      }
      await freshRequestWorks(dispatcher);
    });

    await t.step("declared too large, body not sent yet: the answer arrives whole", async () => {
      const connection = await RawConnection.open(dispatcher.port);
      try {
        await connection.send(request("Content-Length: 5000000\r\n", "x".repeat(1000)));
        const answer = await connection.answer();
        assert.equal(answer.status, 413);
        assert.equal(answer.headers.get("connection"), "close");
      } finally {
        connection.close();
      }
      await freshRequestWorks(dispatcher);
    });

    await t.step("chunked, too large: 413 and the same connection goes on", async () => {
      const connection = await RawConnection.open(dispatcher.port);
      try {
        const chunk = `258\r\n${"x".repeat(600)}\r\n`;
        await connection.send(
          request("Transfer-Encoding: chunked\r\n", `${chunk}${chunk}0\r\n\r\n`),
        );
        const answer = await connection.answer();
        assert.equal(answer.status, 413);
        assert.match(JSON.parse(answer.body).message, /got more than 1000$/);
        await connection.send(NEXT);
        assert.equal((await connection.answer()).status, 200);
      } finally {
        connection.close();
      }
    });
    assert.deepEqual(replica.seen.map((seen) => seen.bytes), [3, 3, 3]);
  } finally {
    await close();
  }
});

Deno.test("POST /classify answers 503 busy before reading, closing cleanly", async () => {
  const replica = await startFakeReplica({ delayMs: 300 });
  const { dispatcher, close } = await start(replica, ["--max-buffered-bytes", "1500"]);
  try {
    const held = fetch(`${dispatcher.url}/classify`, {
      method: "POST",
      body: new Uint8Array(1000),
    });
    await until(() => replica.seen.length === 1, () => new Promise((r) => setTimeout(r, 5)));
    const connection = await RawConnection.open(dispatcher.port);
    try {
      await connection.send(request("Content-Length: 1000\r\n", "x".repeat(1000)));
      const answer = await connection.answer();
      assert.equal(answer.status, 503);
      assert.equal(answer.headers.get("retry-after"), "1");
      assert.equal(JSON.parse(answer.body).error, "busy");
      assert.equal(answer.headers.get("connection"), "close");
      assert.equal(await connection.closedWithin(2000), true, "closed, not reset");
    } finally {
      connection.close();
    }
    await (await held).body?.cancel();
    await freshRequestWorks(dispatcher);
  } finally {
    await close();
  }
});

Deno.test("POST /classify counts a client leaving mid-upload as client_closed", async () => {
  const replica = await startFakeReplica();
  const { dispatcher, close } = await start(replica, []);
  try {
    const connection = await RawConnection.open(dispatcher.port);
    await connection.send(request("Content-Length: 1000\r\n", "x".repeat(10)));
    connection.close();
    const series = 'dispatcher_requests_total{outcome="client_closed"} 1';
    let scraped = "";
    await until(
      () => scraped.includes(series),
      async () => {
        // Scraping resolves without a macrotask: give the server a turn first.
        await new Promise((resolve) => setTimeout(resolve, 5));
        scraped = await dispatcher.metrics.registry.metrics();
      },
    );

    // A client that only stops sending can still read why it was refused.
    const halfClosed = await RawConnection.open(dispatcher.port);
    try {
      await halfClosed.send(request("Content-Length: 1000\r\n", "x".repeat(10)));
      await halfClosed.closeWrite();
      const answer = await halfClosed.answer();
      assert.equal(answer.status, 400);
      assert.equal(JSON.parse(answer.body).error, "incomplete_body");
    } finally {
      halfClosed.close();
    }
    const text = await dispatcher.metrics.registry.metrics();
    assert.match(text, /^dispatcher_requests_total\{outcome="client_closed"\} 2$/m);
    assert.match(text, /^dispatcher_requests_total\{outcome="bad_input"\} 0$/m);
    assert.equal(replica.seen.length, 0);
  } finally {
    await close();
  }
});

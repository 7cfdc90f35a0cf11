import assert from "node:assert/strict";
import { RawConnection } from "./_raw_http.ts";
import { type FakeReplica, startFakeReplica, startTestDispatcher } from "./_test_support.ts";

function start(replica: FakeReplica, args: string[]) {
  return startTestDispatcher([replica], { args });
}

Deno.test("a known path asked with another method answers 405 with Allow", async (t) => {
  const replica = await startFakeReplica();
  const { dispatcher, close } = await start(replica, []);
  try {
    const cases: [string, string, string][] = [
      ["PUT", "/classify", "POST"],
      ["GET", "/classify", "POST"],
      ["GET", "/enqueue", "POST"],
      ["DELETE", "/result/abc", "GET, HEAD"],
      ["POST", "/metrics", "GET, HEAD"],
      ["PATCH", "/readyz", "GET, HEAD"],
    ];
    for (const [method, path, allow] of cases) {
      await t.step(`${method} ${path}`, async () => {
        const response = await fetch(dispatcher.url + path, { method });
        assert.equal(response.status, 405);
        assert.equal(response.headers.get("allow"), allow);
        const body = await response.json();
        assert.equal(body.error, "method_not_allowed");
        assert.ok(body.accepted.length > 0, JSON.stringify(body));
        for (const route of body.accepted) {
          assert.ok(route.endsWith(` ${path.replace("abc", ":id")}`));
        }
      });
    }
    await t.step("an unknown path still answers 404 listing every route", async () => {
      for (const path of ["/nowhere", "/result/", "/result/a/b", "/classify/x"]) {
        const response = await fetch(dispatcher.url + path, { method: "PUT" });
        assert.equal(response.status, 404, path);
        const body = await response.json();
        assert.equal(body.error, "not_found");
        assert.ok(body.accepted.includes("POST /enqueue"));
      }
    });
    assert.equal(replica.seen.length, 0);
  } finally {
    await close();
  }
});

Deno.test("--body-timeout bounds a slow upload on /classify and /enqueue with 408", async (t) => {
  const replica = await startFakeReplica();
  const { dispatcher, close } = await start(replica, ["--body-timeout", "0.3"]);
  try {
    for (const [path, type] of [["/classify", "image/jpeg"], ["/enqueue", "application/json"]]) {
      await t.step(path, async () => {
        const connection = await RawConnection.open(dispatcher.port);
        try {
          // Ten bytes of the announced hundred, then nothing: the timeout must answer.
          await connection.send(
            `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\n` +
              `Content-Length: 100\r\n\r\n${"x".repeat(10)}`,
          );
          const answer = await connection.answer(5000);
          assert.equal(answer.status, 408);
          const body = JSON.parse(answer.body);
          assert.equal(body.error, "body_timeout");
          assert.match(body.message, /300 ms/);
        } finally {
          connection.close();
        }
      });
    }
    assert.equal(replica.seen.length, 0);
  } finally {
    await close();
  }
});

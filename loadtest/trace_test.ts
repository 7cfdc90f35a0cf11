import assert from "node:assert/strict";
import { parseTrace, traceSeconds } from "./trace.ts";

Deno.test("parseTrace() reads rows, skipping a header, comments and blank lines", () => {
  const points = parseTrace("second,rate\n# warm-up\n0,1.5\r\n\n 2 , 10 \n7,0\n");
  assert.deepEqual(points, [
    { second: 0, rate: 1.5 },
    { second: 2, rate: 10 },
    { second: 7, rate: 0 },
  ]);
  assert.equal(traceSeconds(points), 8);
});

Deno.test("parseTrace() lists every bad row by its line number", () => {
  const text = ["second,rate", "1,2", "0,x", "3", "2,-1", "1,4", "", "9,100001"].join("\n");
  assert.throws(() => parseTrace(text), {
    name: "SyntaxError",
    message: "Cannot read the trace: " + [
      "line 2: expected the first row at second 0, got 1",
      'line 3: expected a rate from 0 to 100000, got "x"',
      'line 4: expected "second,rate", got "3"',
      'line 5: expected a rate from 0 to 100000, got "-1"',
      "line 6: expected seconds to increase, got 1 after 1",
      'line 8: expected a rate from 0 to 100000, got "100001"',
    ].join("; "),
  });
});

Deno.test("parseTrace() refuses a trace without rows and caps the list at ten", () => {
  assert.throws(() => parseTrace("second,rate\n# nothing\n"), {
    name: "SyntaxError",
    message: 'Cannot read the trace: no rows: expected lines of "second,rate", e.g. "0,5"',
  });
  const many = Array.from({ length: 12 }, () => "a,b").join("\n");
  assert.throws(() => parseTrace(many), (error: Error) => {
    assert.match(error.message, /line 10: .*; and 2 more$/);
    assert.doesNotMatch(error.message, /line 11/);
    return true;
  });
});

Deno.test("parseTrace() quotes a binary row escaped and cut short", () => {
  const bytes = new Uint8Array(300).map((_, i) => (i * 37) % 256);
  bytes[0] = 0x1b;
  const text = new TextDecoder().decode(bytes).replaceAll("\n", "").replaceAll(",", "");
  assert.throws(() => parseTrace(text), (error: Error) => {
    // No control character reaches the message, and a 300-byte row shows as 40 characters.
    const raw = [...error.message].filter((c) => c < " " || (c >= "\x7f" && c <= "\x9f"));
    assert.deepEqual(raw, []);
    assert.match(
      error.message,
      /^Cannot read the trace: line 1: expected "second,rate", got "\\x1b/,
    );
    assert.match(error.message, /"\.\.\.$/);
    assert.ok(error.message.length < 300, error.message);
    return true;
  });
});

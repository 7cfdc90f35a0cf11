import assert from "node:assert/strict";
import { SHOWN_CHARS, showText } from "./show_text.ts";

Deno.test("showText() quotes printable text as it is", () => {
  assert.equal(showText("0,5"), '"0,5"');
  assert.equal(showText("héllo wörld"), '"héllo wörld"');
});

Deno.test("showText() escapes quotes, backslashes and non-printables", () => {
  assert.equal(showText('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(showText("a\x00b\x1b[2J\x7f\x85\t"), '"a\\x00b\\x1b[2J\\x7f\\x85\\t"');
  assert.equal(showText("\ufffd"), '"\\ufffd"');
});

Deno.test("showText() cuts long text and says so", () => {
  const long = "x".repeat(SHOWN_CHARS + 1);
  assert.equal(showText(long), `"${"x".repeat(SHOWN_CHARS)}"...`);
  assert.equal(showText("x".repeat(SHOWN_CHARS)), `"${"x".repeat(SHOWN_CHARS)}"`);
  assert.equal(showText("abcdef", 3), '"abc"...');
});

import assert from "node:assert/strict";
import { isUnreachableCode, unreachableText } from "./kube_errors.ts";

Deno.test("isUnreachableCode() knows transport failures from answers", () => {
  assert.equal(isUnreachableCode("ECONNREFUSED"), true);
  assert.equal(isUnreachableCode("EAI_AGAIN"), true);
  assert.equal(isUnreachableCode(403), false, "an HTTP status is an answer");
  assert.equal(isUnreachableCode("ERR_SOMETHING_ELSE"), false);
  assert.equal(isUnreachableCode(undefined), false);
});

Deno.test("unreachableText() puts a refused connection in words", () => {
  assert.equal(unreachableText("ECONNREFUSED"), "connection refused");
  assert.equal(unreachableText("ETIMEDOUT"), "ETIMEDOUT");
});

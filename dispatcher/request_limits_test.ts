import assert from "node:assert/strict";
import { HttpError } from "@common/http_error.ts";
import { declaredLength, requestedDeadline } from "./request_limits.ts";

Deno.test("declaredLength() trusts only plain digits, or one value repeated", () => {
  assert.equal(declaredLength(undefined), undefined);
  assert.equal(declaredLength("1234"), 1234);
  assert.equal(declaredLength(" 5 "), 5);
  assert.equal(declaredLength("5, 5"), 5);
  for (const odd of ["+5", "0x5", "5e0", "-5", "5, 6", "", "5 5", "5,"]) {
    assert.equal(declaredLength(odd), undefined, JSON.stringify(odd));
  }
});

Deno.test("requestedDeadline() takes whole positive milliseconds and names a bad value", () => {
  assert.equal(requestedDeadline(undefined), undefined);
  assert.equal(requestedDeadline("250"), 250);
  for (const bad of ["0", "-1", "1.5", "abc", "", "1e3", "9999999999"]) {
    assert.throws(() => requestedDeadline(bad), (error: unknown) => {
      assert.ok(error instanceof HttpError);
      assert.equal(error.status, 400);
      assert.equal(error.code, "bad_deadline");
      assert.equal(
        error.message,
        "Cannot use header x-deadline-ms: expected whole milliseconds from 1 to 999999999, " +
          `got "${bad}"`,
      );
      return true;
    });
  }
});

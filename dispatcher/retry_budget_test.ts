import assert from "node:assert/strict";
import { RetryBudget } from "./retry_budget.ts";

function takeAll(budget: RetryBudget, limit = 1000): number {
  let taken = 0;
  while (taken < limit && budget.tryRetry()) taken++;
  return taken;
}

Deno.test("RetryBudget.tryRetry() allows the floor when there is no traffic", () => {
  const now = 0;
  const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 1, windowMs: 10_000, now: () => now });
  assert.equal(takeAll(budget), 10);
});

Deno.test("RetryBudget.tryRetry() allows ratio times the requests of the window on top", () => {
  let now = 0;
  const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0, windowMs: 10_000, now: () => now });
  for (let i = 0; i < 50; i++) budget.recordRequest();
  assert.equal(takeAll(budget), 10);
  assert.equal(budget.tryRetry(), false, "spent");

  // Requests and retries of the first second leave the window after 10 s.
  now = 5000;
  for (let i = 0; i < 10; i++) budget.recordRequest();
  assert.equal(takeAll(budget), 2, "60 requests earn 12 retries, 10 used");
  now = 10_500;
  assert.equal(takeAll(budget), 0, "the 10 requests left earn the 2 retries already taken");
  now = 15_500;
  for (let i = 0; i < 5; i++) budget.recordRequest();
  assert.equal(takeAll(budget), 1, "only the last 5 requests count now");
});

Deno.test("RetryBudget() refuses invalid settings", () => {
  assert.throws(() => new RetryBudget({ ratio: -1 }), {
    name: "RangeError",
    message: /^Cannot create retry budget: expected ratio >= 0/,
  });
});

import assert from "node:assert/strict";
import { BodyBudget } from "./body_budget.ts";

Deno.test("BodyBudget refuses what does not fit and takes it back when returned", () => {
  const budget = new BodyBudget(100);
  const a = budget.tryTake(60)!;
  assert.equal(budget.tryTake(50), undefined);
  const b = budget.tryTake(40)!;
  assert.equal(budget.used, 100);
  a();
  a();
  assert.equal(budget.used, 40);
  b();
  assert.equal(budget.used, 0);
});

Deno.test("BodyBudget lets one oversized body through when it is empty", () => {
  const budget = new BodyBudget(100);
  const big = budget.tryTake(500)!;
  assert.equal(budget.tryTake(1), undefined);
  big();
  assert.ok(budget.tryTake(1));
});

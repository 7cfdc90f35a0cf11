import assert from "node:assert/strict";
import { PixelBudget } from "./pixel_budget.ts";

Deno.test("PixelBudget lets small images share and makes a big one wait its turn", async () => {
  const budget = new PixelBudget(100);
  const a = await budget.take(30);
  const b = await budget.take(30);
  assert.equal(budget.used, 60);
  const order: string[] = [];
  const big = budget.take(80).then((give) => (order.push("big"), give));
  // Arrival order holds: a small image behind the big one waits too.
  const small = budget.take(10).then((give) => (order.push("small"), give));
  await Promise.resolve();
  assert.deepEqual(order, []);
  a();
  assert.equal(budget.used, 30, "the big image still does not fit");
  b();
  const giveBig = await big;
  const giveSmall = await small;
  assert.equal(budget.used, 90);
  assert.deepEqual(order, ["big", "small"]);
  giveBig();
  giveSmall();
  assert.equal(budget.used, 0);
});

Deno.test("PixelBudget runs an image larger than the budget alone", async () => {
  const budget = new PixelBudget(100);
  const give = await budget.take(1_000);
  assert.equal(budget.used, 100);
  let second = false;
  const next = budget.take(1).then((g) => (second = true, g));
  await Promise.resolve();
  assert.equal(second, false);
  give();
  give();
  (await next)();
  assert.equal(budget.used, 0);
});

import assert from "node:assert/strict";
import { loadLabels, parseLabels } from "./labels.ts";

Deno.test("the shipped label file holds the 1000 ImageNet classes in order", async () => {
  const labels = await loadLabels();
  assert.equal(labels.length, 1000);
  assert.equal(labels[0], "tench");
  assert.equal(labels[1], "goldfish");
  assert.equal(new Set(labels).size > 990, true);
});

Deno.test("parseLabels names the line that breaks the format", () => {
  assert.deepEqual(parseLabels("0\tn1\ta\n1\tn2\tb\n"), ["a", "b"]);
  assert.throws(() => parseLabels("0\tn1\ta\n2\tn2\tb\n"), /line 2/);
  assert.throws(() => parseLabels("0\tn1\n"), /line 1/);
});

import assert from "node:assert/strict";
import { softmax, topK } from "./top_k.ts";

const labels = ["a", "b", "c", "d", "e", "f"];

Deno.test("softmax sums to one and keeps the order of the scores", () => {
  const p = softmax([1, 3, 2, -1]);
  assert.ok(Math.abs(p.reduce((s, v) => s + v, 0) - 1) < 1e-12);
  assert.ok(p[1] > p[2] && p[2] > p[0] && p[0] > p[3]);
  assert.ok(Math.abs(p[1] / p[2] - Math.E) < 1e-9);
});

Deno.test("softmax survives huge scores without overflowing", () => {
  const p = softmax([1000, 1001]);
  assert.ok(Number.isFinite(p[0]) && Number.isFinite(p[1]));
  assert.ok(Math.abs(p[1] - 1 / (1 + Math.exp(-1))) < 1e-12);
});

Deno.test("softmax gives NaN and infinite scores probability zero", () => {
  const p = softmax([NaN, 0, Infinity, 0, -Infinity]);
  assert.deepEqual([...p], [0, 0.5, 0, 0.5, 0]);
  assert.deepEqual([...softmax([NaN, NaN])], [0, 0]);
});

Deno.test("topK returns the k most probable classes, highest first", () => {
  const top = topK([0.1, 0.4, 0.05, 0.3, 0.15, 0], labels, 3);
  assert.deepEqual(top.map((p) => p.index), [1, 3, 4]);
  assert.deepEqual(top.map((p) => p.label), ["b", "d", "e"]);
  assert.equal(top[0].probability, 0.4);
});

Deno.test("topK breaks ties by the lower class index", () => {
  const top = topK([0.2, 0.2, 0.2, 0.2, 0.2, 0], labels, 5);
  assert.deepEqual(top.map((p) => p.index), [0, 1, 2, 3, 4]);
});

Deno.test("topK agrees with a full sort on random scores", () => {
  for (let round = 0; round < 50; round++) {
    const scores = Array.from({ length: 1000 }, () => Math.round(Math.random() * 200));
    const expected = scores.map((p, index) => ({ p, index }))
      .sort((x, y) => y.p - x.p || x.index - y.index).slice(0, 5).map((e) => e.index);
    assert.deepEqual(topK(scores, [], 5).map((p) => p.index), expected);
  }
});

Deno.test("topK names a class without a label by its index", () => {
  assert.equal(topK([0, 1], [], 1)[0].label, "class 1");
});

import assert from "node:assert/strict";
import { globToRegExp, isIgnored, parseDockerignore } from "./dockerignore.ts";

Deno.test("parseDockerignore() skips comments and blank lines and strips slashes", () => {
  assert.deepEqual(parseDockerignore("# note\n\n/run/\n!keep\n  **/*.log  \n"), [
    { glob: "run", include: false },
    { glob: "keep", include: true },
    { glob: "**/*.log", include: false },
  ]);
});

Deno.test("isIgnored() lets the last matching pattern win, parents included", async (t) => {
  const patterns = parseDockerignore("*\n!src\n**/*_test.ts\n!src/keep_test.ts\n");
  await t.step("a folder matched by * hides what is inside it", () => {
    assert.equal(isIgnored(patterns, "run/logs/a.log"), true);
    assert.equal(isIgnored(patterns, "README.md"), true);
  });
  await t.step("! brings a folder back with its content", () => {
    assert.equal(isIgnored(patterns, "src"), false);
    assert.equal(isIgnored(patterns, "src/deep/a.ts"), false);
  });
  await t.step("a later pattern removes files again, and a later ! restores one", () => {
    assert.equal(isIgnored(patterns, "src/deep/a_test.ts"), true);
    assert.equal(isIgnored(patterns, "src/keep_test.ts"), false);
  });
  await t.step("no patterns ignore nothing", () => {
    assert.equal(isIgnored([], "anything/at/all"), false);
  });
});

Deno.test("isIgnored() agrees with this repository's .dockerignore", async () => {
  const patterns = parseDockerignore(
    await Deno.readTextFile(new URL("../.dockerignore", import.meta.url)),
  );
  for (const path of ["deno.json", "deno.lock", "model/main.ts", "common/log.ts"]) {
    assert.equal(isIgnored(patterns, path), false, `${path} must reach the build context`);
  }
  for (const path of [".git/HEAD", "models/x.onnx", "run/a.log", "model/main_test.ts"]) {
    assert.equal(isIgnored(patterns, path), true, `${path} must stay out of the build context`);
  }
});

Deno.test("globToRegExp() follows the engine's matching rules", () => {
  const cases: [string, string, boolean][] = [
    ["*", ".git", true],
    ["*", "a/b", false],
    ["**/*_test.ts", "a_test.ts", true],
    ["**/*_test.ts", "x/y/a_test.ts", true],
    ["**/*_test.ts", "x/a_test.tsx", false],
    ["model/?.ts", "model/a.ts", true],
    ["model/?.ts", "model/ab.ts", false],
    ["[ab].txt", "b.txt", true],
    ["[^ab].txt", "b.txt", false],
    ["a.b", "axb", false],
    ["docs/**", "docs/x/y", true],
  ];
  for (const [glob, path, expected] of cases) {
    assert.equal(globToRegExp(glob).test(path), expected, `${glob} against ${path}`);
  }
});

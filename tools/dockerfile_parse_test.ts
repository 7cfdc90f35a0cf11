import assert from "node:assert/strict";
import { parseDockerfile, shellWords, splitStages, stageEnv } from "./dockerfile_parse.ts";

const SAMPLE = `# syntax=docker/dockerfile:1
ARG BASE=debian
FROM denoland/deno:2.9.6 AS Build
RUN echo one \\
    # a comment inside the continuation is dropped
    && echo "two words" 'and more'
COPY --from=build --chown=1:1 /out/ /usr/local/bin/

FROM debian:12.12-slim
ENV A=1 B="two words"
ENV LEGACY some value
ENTRYPOINT ["/usr/local/bin/app", "--flag"]
CMD serve --port 1
`;

Deno.test("parseDockerfile() joins continued lines and drops comments", () => {
  const instructions = parseDockerfile(SAMPLE);
  assert.deepEqual(instructions.map((i) => [i.line, i.keyword]), [
    [2, "ARG"],
    [3, "FROM"],
    [4, "RUN"],
    [7, "COPY"],
    [9, "FROM"],
    [10, "ENV"],
    [11, "ENV"],
    [12, "ENTRYPOINT"],
    [13, "CMD"],
  ]);
  const run = instructions[2];
  assert.equal(run.text, `echo one && echo "two words" 'and more'`);
  assert.deepEqual(run.args, ["echo", "one", "&&", "echo", "two words", "and more"]);
});

Deno.test("parseDockerfile() reads options and both argument forms", async (t) => {
  const instructions = parseDockerfile(SAMPLE);
  await t.step("COPY options come apart from the sources", () => {
    const copy = instructions[3];
    assert.deepEqual(copy.options, { from: "build", chown: "1:1" });
    assert.deepEqual(copy.args, ["/out/", "/usr/local/bin/"]);
  });
  await t.step("a JSON array is the exec form", () => {
    const entrypoint = instructions[7];
    assert.equal(entrypoint.execForm, true);
    assert.deepEqual(entrypoint.args, ["/usr/local/bin/app", "--flag"]);
  });
  await t.step("anything else is the shell form", () => {
    assert.equal(instructions[8].execForm, false);
    assert.deepEqual(instructions[8].args, ["serve", "--port", "1"]);
  });
});

Deno.test("parseDockerfile() names the line of what it cannot read", async (t) => {
  await t.step("an unknown keyword", () => {
    assert.throws(
      () => parseDockerfile("FROM a:1.0\nCOPPY x y\n"),
      { name: "SyntaxError", message: 'Line 2: unknown instruction "COPPY"' },
    );
  });
  await t.step("an ENTRYPOINT array that is not JSON", () => {
    assert.throws(
      () => parseDockerfile("FROM a:1.0\nENTRYPOINT ['/app']\n"),
      { name: "SyntaxError", message: "Line 2: ENTRYPOINT looks like a JSON array but is not one" },
    );
  });
  await t.step("a continuation at the end of the file", () => {
    assert.throws(
      () => parseDockerfile("FROM a:1.0\nRUN true \\\n"),
      { name: "SyntaxError", message: "Line 2: the instruction continues past the end" },
    );
  });
  await t.step("an unclosed quote", () => {
    assert.throws(() => parseDockerfile(`FROM a:1.0\nRUN echo "open\n`), /Line 2: .*unclosed/);
  });
});

Deno.test("splitStages() groups instructions under their FROM", () => {
  const stages = splitStages(parseDockerfile(SAMPLE));
  assert.equal(stages.length, 2);
  assert.deepEqual(
    stages.map((s) => [s.index, s.name, s.base, s.line, s.instructions.length]),
    [[0, "build", "denoland/deno:2.9.6", 3, 2], [1, undefined, "debian:12.12-slim", 9, 4]],
  );
  assert.throws(
    () => splitStages(parseDockerfile("RUN true\nFROM a:1.0\n")),
    { name: "SyntaxError", message: "Line 1: RUN before any FROM" },
  );
});

Deno.test("stageEnv() reads both ENV forms", () => {
  const [build, runtime] = splitStages(parseDockerfile(SAMPLE));
  assert.deepEqual(stageEnv(build), {});
  assert.deepEqual(stageEnv(runtime), { A: "1", B: "two words", LEGACY: "some value" });
});

Deno.test("shellWords() honours quotes and escapes", () => {
  assert.deepEqual(shellWords(`a "b c" 'd "e"' f\\ g ""`), ["a", "b c", 'd "e"', "f g", ""]);
});

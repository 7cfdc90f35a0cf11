import assert from "node:assert/strict";
import {
  ConfigError,
  logLevelSetting,
  parseFlags,
  settingsOrExit,
  type Terminal,
} from "./settings.ts";

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function terminal() {
  const lines = { out: [] as string[], err: [] as string[] };
  const fake: Terminal = {
    out: (text) => lines.out.push(text),
    err: (text) => lines.err.push(text),
    exit: (code) => {
      throw new Exit(code);
    },
  };
  return { lines, fake };
}

Deno.test("settingsOrExit prints the usage and exits 0 on --help", () => {
  const { lines, fake } = terminal();
  assert.throws(() => settingsOrExit(["--port", "1", "-h"], "USAGE", () => 1, fake), { code: 0 });
  assert.deepEqual(lines.out, ["USAGE"]);
});

Deno.test("settingsOrExit returns the parsed settings", () => {
  assert.equal(settingsOrExit([], "USAGE", () => 42, terminal().fake), 42);
});

Deno.test("settingsOrExit prints every problem and exits 2", () => {
  const { lines, fake } = terminal();
  const parse = () => {
    throw new ConfigError("demo", ["--a is wrong", "--b is wrong"]);
  };
  assert.throws(() => settingsOrExit([], "USAGE", parse, fake), { code: 2 });
  assert.equal(
    lines.err[0],
    "Invalid demo settings:\n  - --a is wrong\n  - --b is wrong\n" +
      "Run with --help for the list of flags.",
  );
});

Deno.test("logLevelSetting reads a level or records the problem", () => {
  const problems: string[] = [];
  assert.equal(logLevelSetting(undefined, problems), "info");
  assert.equal(logLevelSetting("DEBUG", problems), "debug");
  assert.equal(logLevelSetting("loud", problems), "info");
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^LOG_LEVEL: .*"loud"/);
});

Deno.test("parseFlags reads typed values and names an unknown flag", () => {
  const options = { port: { type: "string" }, dry: { type: "boolean", default: false } } as const;
  assert.deepEqual({ ...parseFlags("demo", ["--port", "8", "--dry"], options) }, {
    port: "8",
    dry: true,
  });
  assert.throws(() => parseFlags("demo", ["--bogus"], options), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /^Invalid demo settings:\n {2}- .*--bogus/);
    return true;
  });
});

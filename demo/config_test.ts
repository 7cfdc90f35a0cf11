import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "./config.ts";

const images = Deno.makeTempDirSync();
const bin = Deno.makeTempDirSync();
Deno.writeTextFileSync(`${bin}/prometheus`, "#!/bin/sh\n", { mode: 0o755 });
const prometheus = ["--prometheus-bin", `${bin}/prometheus`];

Deno.test("demo parseConfig has working defaults", () => {
  const config = parseConfig(prometheus, images);
  assert.equal(config.steps.length, 6);
  assert.equal(config.imageDir, images);
  assert.equal(config.cooldownSeconds, 90);
});

Deno.test("demo parseConfig lists every problem before anything starts", () => {
  try {
    parseConfig([
      "--steps",
      "abc",
      "--target-rate=-3",
      "--max",
      "0",
      "--cooldown",
      "xyz",
      "--images",
      "/nonexistent/folder",
      "--prometheus-bin",
      "/nonexistent/prometheus",
    ], images);
    assert.fail("expected a ConfigError");
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.problems.length, 6, error.message);
    assert.match(error.message, /install it with/);
  }
  assert.throws(() => parseConfig(["--bogus"], images), ConfigError);
  assert.throws(() => parseConfig(["--max"], images), ConfigError);
});

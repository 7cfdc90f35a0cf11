import assert from "node:assert/strict";
import { ConfigError, parseConfig, REAL_MODEL, SYNTHETIC_MODEL } from "./config.ts";

const none = () => false;

Deno.test("parseConfig has working defaults", () => {
  const config = parseConfig([], {}, none);
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.port, 8000);
  assert.equal(config.modelPath, SYNTHETIC_MODEL);
  assert.equal(config.threads, undefined);
  assert.equal(config.maxBodyBytes, 20 * 1024 * 1024);
  assert.equal(config.maxPixels, 40_000_000);
  assert.equal(config.drainTimeoutMs, 30_000);
});

Deno.test("parseConfig prefers the real weights when they are present", () => {
  assert.equal(parseConfig([], {}, (p) => p === REAL_MODEL).modelPath, REAL_MODEL);
});

Deno.test("parseConfig reads flags before environment variables", () => {
  const env = { PORT: "8100", MODEL_PATH: "env.onnx", ORT_THREADS: "3" };
  const fromEnv = parseConfig([], env, none);
  assert.deepEqual([fromEnv.port, fromEnv.modelPath, fromEnv.threads], [8100, "env.onnx", 3]);
  const fromFlags = parseConfig(["--port", "0", "--model", "f.onnx", "--threads", "1"], env, none);
  assert.deepEqual([fromFlags.port, fromFlags.modelPath, fromFlags.threads], [0, "f.onnx", 1]);
});

Deno.test("parseConfig lists every invalid setting at once", () => {
  try {
    parseConfig(["--port", "70000", "--threads", "0", "--max-queue", "x"], {}, none);
    assert.fail("expected a ConfigError");
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.problems.length, 3);
    assert.match(error.message, /--port must be an integer from 0 to 65535, got "70000"/);
  }
  assert.throws(() => parseConfig(["--bogus"], {}, none), ConfigError);
});

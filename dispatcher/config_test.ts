import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "./config.ts";

Deno.test("parseConfig() applies the defaults", () => {
  assert.deepEqual(parseConfig([], {}), {
    host: "127.0.0.1",
    port: 9000,
    targetsFile: "run/targets/model.json",
    maxBodyBytes: 20 * 1024 * 1024,
    maxBufferedBytes: 256 * 1024 * 1024,
    retries: 3,
    upstreamTimeoutMs: 30_000,
    exitWithParent: false,
    logLevel: "info",
  });
});

Deno.test("parseConfig() reads flags before the environment", () => {
  const env = { HOST: "::1", PORT: "9100", TARGETS_FILE: "/tmp/t.json", LOG_LEVEL: "debug" };
  const fromEnv = parseConfig([], env);
  assert.deepEqual(
    [fromEnv.host, fromEnv.port, fromEnv.targetsFile, fromEnv.logLevel],
    ["::1", 9100, "/tmp/t.json", "debug"],
  );
  const flagged = parseConfig(
    ["--port", "0", "--targets", "x.json", "--upstream-timeout", "2.5", "--exit-with-parent"],
    env,
  );
  assert.deepEqual(
    [flagged.port, flagged.targetsFile, flagged.upstreamTimeoutMs, flagged.exitWithParent],
    [0, "x.json", 2500, true],
  );
});

Deno.test("parseConfig() reports every bad setting at once", () => {
  let error: unknown;
  try {
    parseConfig(["--retries=-1", "--max-body-bytes", "big", "--upstream-timeout", "0"], {
      PORT: "70000",
      LOG_LEVEL: "loud",
    });
  } catch (caught) {
    error = caught;
  }
  assert.ok(error instanceof ConfigError);
  assert.deepEqual(error.problems, [
    'PORT must be an integer from 0 to 65535, got "70000"',
    '--max-body-bytes must be an integer from 1 to 1073741824 (1 GiB), got "big"',
    '--retries must be an integer from 0 to 20, got "-1"',
    '--upstream-timeout must be seconds from 0.1 to 600, got "0"',
    'LOG_LEVEL: Cannot parse log level: expected debug, info, warn or error, got "loud"',
  ]);
});

Deno.test("parseConfig() names an unknown flag", () => {
  assert.throws(() => parseConfig(["--replicas", "3"], {}), {
    name: "ConfigError",
    message: /Unknown option '--replicas'/,
  });
});

import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "./config.ts";

Deno.test("parseConfig() applies the defaults", () => {
  const config = parseConfig([], {});
  assert.equal(config.prometheusUrl, "http://127.0.0.1:9090");
  assert.equal(config.targetRate, 5);
  assert.equal(config.window, "10s");
  assert.equal(config.min, 1);
  assert.equal(config.max, 4);
  assert.equal(config.dryRun, false);
});

Deno.test("parseConfig() reads flags before the environment", () => {
  const env = { PROMETHEUS_URL: "http://127.0.0.1:1234" };
  assert.equal(parseConfig([], env).prometheusUrl, "http://127.0.0.1:1234");
  const flagged = parseConfig(["--prometheus", "http://127.0.0.1:99", "--dry-run"], env);
  assert.equal(flagged.prometheusUrl, "http://127.0.0.1:99");
  assert.equal(flagged.dryRun, true);
});

Deno.test("parseConfig() reports every bad setting at once", () => {
  const args = ["--min", "3", "--max", "2", "--target-rate=-1", "--policy", "magic"];
  let error: unknown;
  try {
    parseConfig(args, { LOG_LEVEL: "loud" });
  } catch (caught) {
    error = caught;
  }
  assert.ok(error instanceof ConfigError);
  assert.deepEqual(error.problems, [
    '--policy must be one of: rate, hpa, concurrency, latency; got "magic"',
    '--target-rate must be a number > 0, got "-1"',
    "--min (3) must not exceed --max (2)",
    'LOG_LEVEL: Cannot parse log level: expected debug, info, warn or error, got "loud"',
  ]);
});

Deno.test("parseConfig() requires the rate window to cover four scrape intervals", () => {
  assert.throws(() => parseConfig(["--window", "10s", "--scrape-interval", "5s"], {}), {
    name: "ConfigError",
    message: /--window must cover at least 4 scrape intervals \(4 x 5s = 20s\)/,
  });
  assert.equal(parseConfig(["--window", "20s", "--scrape-interval", "5s"], {}).window, "20s");
});

Deno.test("parseConfig() names an unparsable duration", () => {
  assert.throws(() => parseConfig(["--window", "ten"], {}), {
    name: "ConfigError",
    message: /--window: Cannot parse duration: expected a number and a unit/,
  });
});

Deno.test("parseConfig() names an unknown flag", () => {
  assert.throws(() => parseConfig(["--replicas", "3"], {}), {
    name: "ConfigError",
    message: /Unknown option '--replicas'/,
  });
});

Deno.test("parseConfig() reads each policy's settings and checks them", () => {
  const hpa = parseConfig(["--policy", "hpa", "--hpa-target", "0.5", "--tolerance", "0.2"], {});
  assert.deepEqual([hpa.policy, hpa.hpaTarget, hpa.tolerance], ["hpa", 0.5, 0.2]);
  assert.equal(hpa.hpaScaleDownWindowSeconds, 300);
  const knative = parseConfig(["--policy", "concurrency", "--target-concurrency", "3"], {});
  assert.deepEqual([knative.targetConcurrency, knative.targetUtilization], [3, 0.7]);
  const latency = parseConfig(["--policy", "latency", "--slo-ms", "150"], {});
  assert.equal(latency.sloSeconds, 0.15);
  assert.throws(
    () =>
      parseConfig(["--panic-window", "90", "--tolerance", "1", "--target-utilization", "2"], {}),
    (error: unknown) => (error as ConfigError).problems.length === 3,
  );
});

Deno.test("parseConfig() requires the panic window to cover four scrape intervals", () => {
  assert.throws(
    () => parseConfig(["--policy", "concurrency", "--panic-window", "3"], {}),
    /--panic-window must cover at least 4 scrape intervals/,
  );
  assert.equal(parseConfig(["--panic-window", "3"], {}).panicWindowSeconds, 3, "rate ignores it");
  assert.equal(parseConfig(["--max-step", "2"], {}).maxStep, 2);
});

import assert from "node:assert/strict";
import { ConfigError, DEFAULTS, parseConfig, USAGE } from "./config.ts";

function problemsOf(args: string[], env: Record<string, string> = {}): string[] {
  try {
    parseConfig(args, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    assert.equal(
      error.message,
      `Invalid load test settings:\n  - ${error.problems.join("\n  - ")}`,
    );
    return error.problems;
  }
  assert.fail(`expected ${JSON.stringify(args)} to be refused`);
}

Deno.test("parseConfig() applies the defaults", () => {
  assert.deepEqual(parseConfig([], {}), {
    url: DEFAULTS.url,
    steps: [{ rate: 10, seconds: 30 }],
    imagesDir: "images",
    maxOutstanding: 1000,
    requestTimeoutMs: 30_000,
    drainTimeoutMs: 30_000,
    prometheusUrl: undefined,
    json: false,
    failOnError: false,
    logLevel: "info",
  });
});

Deno.test("parseConfig() reads flags before the environment", () => {
  const env = {
    LOAD_URL: "http://127.0.0.1:1/env",
    PROMETHEUS_URL: "http://127.0.0.1:2",
    LOG_LEVEL: "DEBUG",
  };
  const fromEnv = parseConfig([], env);
  assert.equal(fromEnv.url, "http://127.0.0.1:1/env");
  assert.equal(fromEnv.prometheusUrl, "http://127.0.0.1:2");
  assert.equal(fromEnv.logLevel, "debug");

  const flagged = parseConfig([
    "--url=http://127.0.0.1:3/flag",
    "--prometheus",
    "http://[::1]:4",
    "--rate",
    "2.5",
    "--duration",
    "4",
    "--images",
    "my photos",
    "--max-outstanding",
    "7",
    "--timeout",
    "0.25",
    "--drain-timeout",
    "1.5",
    "--json",
    "--fail-on-error",
  ], env);
  assert.deepEqual(flagged, {
    url: "http://127.0.0.1:3/flag",
    steps: [{ rate: 2.5, seconds: 4 }],
    imagesDir: "my photos",
    maxOutstanding: 7,
    requestTimeoutMs: 250,
    drainTimeoutMs: 1500,
    prometheusUrl: "http://[::1]:4",
    json: true,
    failOnError: true,
    logLevel: "debug",
  });
});

Deno.test("parseConfig() takes a stepped profile instead of rate and duration", () => {
  assert.deepEqual(parseConfig(["--steps", "2:10,6:5"], {}).steps, [
    { rate: 2, seconds: 10 },
    { rate: 6, seconds: 5 },
  ]);
});

Deno.test("parseConfig() reports every bad setting at once", () => {
  const args = [
    "--url",
    "ftp://127.0.0.1/x",
    "--rate",
    "0",
    "--duration",
    "forever",
    "--max-outstanding",
    "2.5",
    "--timeout",
    "-1",
    "--drain-timeout",
    "",
    "--prometheus",
    "127.0.0.1:9090",
  ];
  assert.deepEqual(problemsOf(args, { LOG_LEVEL: "loud" }), [
    '--url must be an http(s) URL, got "ftp://127.0.0.1/x"',
    '--prometheus must be an http(s) URL, got "127.0.0.1:9090"',
    '--rate must be a number of requests per second above 0, at most 100000, got "0"',
    '--duration must be seconds above 0, at most 86400, got "forever"',
    '--max-outstanding must be an integer from 1 to 100000, got "2.5"',
    '--timeout must be seconds above 0, at most 3600, got "-1"',
    '--drain-timeout must be seconds above 0, at most 3600, got ""',
    'LOG_LEVEL: Cannot parse log level: expected debug, info, warn or error, got "loud"',
  ]);
});

Deno.test("parseConfig() lists flag mistakes alongside the other problems", () => {
  const args = ["--bogus", "extra", "--json=yes", "--steps", "2:10", "--rate", "5", "--url"];
  assert.deepEqual(problemsOf(args, { LOAD_URL: "http://a b" }), [
    "unknown flag --bogus: see --help for the list",
    'unexpected argument "extra": every setting is a --flag',
    '--json takes no value, got "yes"',
    "--url needs a value, e.g. --url=VALUE",
    '--url must be an http(s) URL, got "http://a b"',
    "--steps replaces --rate and --duration: give either, not both",
  ]);
  // A flag where a value belongs is a forgotten value, not the value.
  assert.deepEqual(problemsOf(["--images", "--json"]), [
    "--images needs a value, e.g. --images=VALUE",
  ]);
});

Deno.test("parseConfig() refuses profiles with no arrivals or too many", () => {
  assert.deepEqual(problemsOf(["--steps", "2:1,x"]), [
    `--steps: Cannot parse step 2 of "2:1,x": expected rate:seconds with rate >= 0 ` +
    `and seconds > 0, e.g. "2:10,10:20", got "x"`,
  ]);
  assert.deepEqual(problemsOf(["--steps", "0:5"]), [
    '--steps must schedule at least one arrival, got only pauses: "0:5"',
  ]);
  assert.deepEqual(problemsOf(["--rate", "100000", "--duration", "86400"]), [
    "the profile schedules 8640000000 arrivals, more than the 10000000 one run can hold: " +
    "lower --rate or --duration (or the steps)",
  ]);
});

Deno.test("USAGE names every flag that parseConfig() accepts", () => {
  const flags = [...USAGE.matchAll(/^\s+(--[a-z-]+)/gm)].map((match) => match[1]);
  assert.deepEqual(flags, [
    "--url",
    "--rate",
    "--duration",
    "--steps",
    "--images",
    "--max-outstanding",
    "--timeout",
    "--drain-timeout",
    "--prometheus",
    "--json",
    "--fail-on-error",
  ]);
  for (const flag of flags) {
    const value = flag === "--json" || flag === "--fail-on-error" ? [] : ["1"];
    const problems = (() => {
      try {
        parseConfig([flag, ...value], {});
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    })();
    assert.ok(!problems.some((problem) => problem.startsWith("unknown flag")), flag);
  }
});

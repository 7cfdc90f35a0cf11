import assert from "node:assert/strict";
import { ConfigError, defaultImagesDir, DEFAULTS, parseConfig, USAGE } from "./config.ts";

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
    profile: { kind: "constant", rate: 10, seconds: 30 },
    closedLoop: null,
    imagesDir: "images",
    maxOutstanding: 1000,
    requestTimeoutMs: 30_000,
    drainTimeoutMs: 30_000,
    prometheusUrl: undefined,
    json: false,
    failOnError: false,
    outPath: undefined,
    reportPath: undefined,
    logLevel: "info",
  });
});

Deno.test("the default images are the shared sample when found, else images/", async (t) => {
  await t.step("no shared folder", () => {
    assert.equal(defaultImagesDir(undefined), "images");
    assert.equal(parseConfig([], {}, undefined, defaultImagesDir(undefined)).imagesDir, "images");
  });
  await t.step("a shared folder", () => {
    const dir = defaultImagesDir("/data/shared");
    assert.equal(dir, "/data/shared/imagenet-sample");
    assert.equal(parseConfig([], {}, undefined, dir).imagesDir, dir);
  });
  await t.step("--images wins over the default", () => {
    const dir = defaultImagesDir("/data/shared");
    assert.equal(parseConfig(["--images", "mine"], {}, undefined, dir).imagesDir, "mine");
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
    "--out",
    "run.json",
    "--report=run.html",
  ], env);
  assert.deepEqual(flagged, {
    url: "http://127.0.0.1:3/flag",
    profile: { kind: "constant", rate: 2.5, seconds: 4 },
    closedLoop: null,
    imagesDir: "my photos",
    maxOutstanding: 7,
    requestTimeoutMs: 250,
    drainTimeoutMs: 1500,
    prometheusUrl: "http://[::1]:4",
    json: true,
    failOnError: true,
    outPath: "run.json",
    reportPath: "run.html",
    logLevel: "debug",
  });
});

Deno.test("parseConfig() takes a stepped profile instead of rate and duration", () => {
  const expected = {
    kind: "step",
    steps: [{ rate: 2, seconds: 10 }, { rate: 6, seconds: 5 }],
  };
  assert.deepEqual(parseConfig(["--steps", "2:10,6:5"], {}).profile, expected);
  assert.deepEqual(parseConfig(["--profile", "step:2:10,6:5"], {}).profile, expected);
  assert.deepEqual(parseConfig(["--profile", "step", "--steps", "2:10,6:5"], {}).profile, expected);
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
    // Values that are no number come first, then those out of range.
    '--duration must be seconds above 0, at most 86400, got "forever"',
    '--rate must be a number of requests per second above 0, at most 100000, got "0"',
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
    "--profile",
    "--rate",
    "--duration",
    "--steps",
    "--from",
    "--to",
    "--peak",
    "--spike-at",
    "--spike-for",
    "--min",
    "--max",
    "--period",
    "--trace",
    "--users",
    "--think-time",
    "--url",
    "--images",
    "--max-outstanding",
    "--timeout",
    "--drain-timeout",
    "--prometheus",
    "--out",
    "--report",
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

Deno.test("parseConfig() builds each named profile from flags or the compact form", async (t) => {
  await t.step("spike from flags over its defaults", () => {
    const config = parseConfig(["--profile", "spike", "--rate", "4", "--peak", "30"], {});
    assert.deepEqual(config.profile, {
      kind: "spike",
      rate: 4,
      peak: 30,
      at: 20,
      for: 10,
      seconds: 60,
    });
  });
  await t.step("the compact form means the same", () => {
    const compact = parseConfig(["--profile", "spike:rate=4,peak=30,spike-at=5"], {});
    assert.deepEqual(compact.profile, {
      kind: "spike",
      rate: 4,
      peak: 30,
      at: 5,
      for: 10,
      seconds: 60,
    });
  });
  await t.step("ramp and diurnal", () => {
    assert.deepEqual(parseConfig(["--profile=ramp:from=0,to=8", "--duration=10"], {}).profile, {
      kind: "ramp",
      from: 0,
      to: 8,
      seconds: 10,
    });
    assert.deepEqual(parseConfig(["--profile", "diurnal", "--max", "9"], {}).profile, {
      kind: "diurnal",
      min: 2,
      max: 9,
      period: 60,
      seconds: 120,
    });
  });
  await t.step("trace through the injected reader", () => {
    const files: Record<string, string> = { "t.csv": "second,rate\n0,2\n3,5\n" };
    const config = parseConfig(["--profile", "trace", "--trace", "t.csv"], {}, (p) => files[p]);
    assert.deepEqual(config.profile, {
      kind: "trace",
      points: [{ second: 0, rate: 2 }, { second: 3, rate: 5 }],
      source: "t.csv",
      seconds: 4,
    });
  });
  await t.step("--trace alone implies the trace profile", () => {
    const files: Record<string, string> = { "t.csv": "0,2\n1,4\n" };
    const config = parseConfig(["--trace", "t.csv"], {}, (p) => files[p]);
    assert.deepEqual(config.profile, {
      kind: "trace",
      points: [{ second: 0, rate: 2 }, { second: 1, rate: 4 }],
      source: "t.csv",
      seconds: 2,
    });
    // A profile named on purpose still wins, and the mismatch is reported.
    const problems = problemsOf(["--profile", "constant", "--trace", "t.csv"]);
    assert.match(problems[0], /^--trace does not apply to the constant profile/);
  });
});

Deno.test("parseConfig() names every profile mistake", () => {
  assert.deepEqual(problemsOf(["--profile", "wave"]), [
    "Cannot read --profile: expected one of constant, step, ramp, spike, diurnal, trace, " +
    `got "wave"`,
  ]);
  assert.deepEqual(problemsOf(["--profile", "ramp", "--peak", "3", "--to", "x"]), [
    '--to must be a number of requests per second from 0, at most 100000, got "x"',
    "--peak does not apply to the ramp profile, which takes --from, --to, --duration",
  ]);
  assert.deepEqual(problemsOf(["--profile", "spike:peak=3", "--peak", "4"]), [
    "--peak is given twice, as a flag and inside --profile: keep one",
  ]);
  assert.deepEqual(problemsOf(["--profile", "diurnal:min=5,max=2,period=0"]), [
    '--max must be at least --min (5), got "2"',
    '--period must be seconds above 0, at most 86400, got "0"',
  ]);
  assert.deepEqual(problemsOf(["--profile", "ramp:from=0,to=0"]), [
    "the ramp profile schedules no arrival at all: raise its rates",
  ]);
  assert.deepEqual(problemsOf(["--profile", "trace"]), [
    "--profile trace needs --trace FILE, a CSV of second,rate rows",
  ]);
  const bad = problemsOf(["--profile", "trace", "--trace", "/nonexistent/l1-trace.csv"]);
  assert.deepEqual(bad, ["--trace /nonexistent/l1-trace.csv: no such file"]);
});

Deno.test("parseConfig() reads a closed loop from --users", () => {
  const config = parseConfig(["--users", "3", "--duration", "5", "--think-time", "0.25"], {});
  assert.equal(config.profile, null);
  assert.deepEqual(config.closedLoop, { users: 3, seconds: 5, thinkTimeMs: 250 });
  assert.deepEqual(problemsOf(["--users", "0", "--rate", "3", "--think-time", "-1"]), [
    "--rate shapes an open-loop profile: it does not go with --users",
    '--users must be an integer from 1 to 100000, got "0"',
    '--think-time must be seconds from 0, at most 3600, got "-1"',
  ]);
  assert.deepEqual(problemsOf(["--think-time", "1"]), [
    "--think-time applies to a closed loop only: give --users N with it",
  ]);
});

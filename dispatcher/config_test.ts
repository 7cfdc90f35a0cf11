import assert from "node:assert/strict";
import { ConfigError, parseConfig, USAGE } from "./config.ts";

Deno.test("parseConfig() applies the defaults", () => {
  assert.deepEqual(parseConfig([], {}), {
    host: "127.0.0.1",
    port: 9000,
    discovery: "file",
    targetsFile: "run/targets/model.json",
    maxBodyBytes: 20 * 1024 * 1024,
    maxBufferedBytes: 256 * 1024 * 1024,
    bodyTimeoutMs: 30_000,
    retries: 3,
    upstreamTimeoutMs: 30_000,
    maxInFlightPerReplica: 4,
    queueSize: 64,
    deadlineMs: 10_000,
    retryBudgetRatio: 0.2,
    retryBudgetMinPerSecond: 1,
    ejectAfter: 5,
    ejectBaseMs: 5000,
    ejectMaxMs: 60_000,
    resultTtlMs: 300_000,
    maxResults: 10_000,
    pendingTimeoutMs: 120_000,
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

Deno.test("parseConfig() reads the queue, deadline, retry budget and ejection flags", () => {
  const config = parseConfig([
    "--max-in-flight-per-replica",
    "2",
    "--queue-size",
    "0",
    "--deadline",
    "2.5",
    "--retry-budget-ratio",
    "0",
    "--retry-budget-min",
    "0.5",
    "--eject-after",
    "3",
    "--eject-time",
    "0.25",
    "--eject-max-time",
    "1",
  ], {});
  assert.deepEqual(
    [
      config.maxInFlightPerReplica,
      config.queueSize,
      config.deadlineMs,
      config.retryBudgetRatio,
      config.retryBudgetMinPerSecond,
      config.ejectAfter,
      config.ejectBaseMs,
      config.ejectMaxMs,
    ],
    [2, 0, 2500, 0, 0.5, 3, 250, 1000],
  );
});

Deno.test("parseConfig() names every bad queue, deadline, budget and ejection flag", () => {
  let error: unknown;
  try {
    parseConfig([
      "--max-in-flight-per-replica",
      "0",
      "--queue-size",
      "1.5",
      "--deadline",
      "0",
      "--retry-budget-ratio=-0.1",
      "--retry-budget-min",
      "x",
      "--eject-after",
      "0",
      "--eject-time",
      "10",
      "--eject-max-time",
      "5",
    ], {});
  } catch (caught) {
    error = caught;
  }
  assert.ok(error instanceof ConfigError);
  assert.deepEqual(error.problems, [
    '--max-in-flight-per-replica must be an integer from 1 to 1000, got "0"',
    '--queue-size must be an integer from 0 to 100000, got "1.5"',
    '--deadline must be seconds from 0.01 to 600, got "0"',
    '--retry-budget-ratio must be a number from 0 to 10, got "-0.1"',
    '--retry-budget-min must be retries per second from 0 to 10000, got "x"',
    '--eject-after must be an integer from 1 to 1000, got "0"',
    '--eject-max-time must be at least --eject-time (10), got "5"',
  ]);
});

Deno.test("USAGE lists every flag the parser takes", () => {
  for (
    const flag of [
      "--max-in-flight-per-replica",
      "--queue-size",
      "--deadline",
      "--retry-budget-ratio",
      "--retry-budget-min",
      "--eject-after",
      "--eject-time",
      "--eject-max-time",
      "--result-ttl",
      "--max-results",
      "--pending-timeout",
    ]
  ) {
    assert.ok(USAGE.includes(`  ${flag} `), `${flag} is in USAGE`);
    assert.doesNotThrow(() => parseConfig([flag, "5"], {}), `${flag} is parsed`);
  }
});

Deno.test("parseConfig() reads the Kubernetes discovery flags", async (t) => {
  await t.step("all of them", () => {
    const config = parseConfig([
      "--discovery",
      "kubernetes",
      "--namespace",
      "resnet",
      "--service",
      "resnet-model",
      "--port-name",
      "http",
      "--kubeconfig",
      "/tmp/kc",
      "--context",
      "kind",
    ], {});
    assert.equal(config.discovery, "kubernetes");
    assert.deepEqual(config.kubernetes, {
      service: "resnet-model",
      namespace: "resnet",
      portName: "http",
      kubeconfig: "/tmp/kc",
      context: "kind",
    });
  });

  await t.step("only --service is required; the rest stay unset for their defaults", () => {
    const config = parseConfig(["--discovery", "kubernetes", "--service", "m"], {});
    assert.deepEqual(config.kubernetes, {
      service: "m",
      namespace: undefined,
      portName: undefined,
      kubeconfig: undefined,
      context: undefined,
    });
  });

  await t.step("file discovery has no kubernetes part", () => {
    assert.equal(parseConfig(["--discovery", "file"], {}).kubernetes, undefined);
  });
});

Deno.test("parseConfig() names every discovery mistake at once", async (t) => {
  const problems = (args: string[]) => {
    try {
      parseConfig(args, {});
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.problems;
    }
    assert.fail(`${args.join(" ")} was accepted`);
  };

  await t.step("Kubernetes flags without --discovery kubernetes", () => {
    assert.deepEqual(problems(["--service", "m", "--context", "c", "--port", "x"]), [
      '--port must be an integer from 0 to 65535, got "x"',
      "--service needs --discovery kubernetes; drop it or add that flag",
      "--context needs --discovery kubernetes; drop it or add that flag",
    ]);
  });

  await t.step("kubernetes without --service, with --targets, with an empty flag", () => {
    assert.deepEqual(
      problems(["--discovery", "kubernetes", "--targets", "t.json", "--namespace", ""]),
      [
        "--targets needs --discovery file; drop it or drop --discovery kubernetes",
        "--namespace must not be empty",
        "--discovery kubernetes needs --service NAME, the model's Service",
      ],
    );
  });

  await t.step("an unknown kind", () => {
    assert.deepEqual(problems(["--discovery", "dns"]), [
      '--discovery must be file or kubernetes, got "dns"',
    ]);
  });
});

Deno.test("parseConfig() reads and checks the async API flags", () => {
  const config = parseConfig(
    ["--result-ttl", "1.5", "--max-results", "7", "--pending-timeout", "0.5"],
    {},
  );
  assert.deepEqual(
    [config.resultTtlMs, config.maxResults, config.pendingTimeoutMs],
    [1500, 7, 500],
  );
  assert.throws(
    () => parseConfig(["--result-ttl", "0", "--max-results", "1.5", "--pending-timeout", "x"], {}),
    (error) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems, [
        '--result-ttl must be seconds from 1 to 86400, got "0"',
        '--max-results must be an integer from 1 to 1000000, got "1.5"',
        '--pending-timeout must be seconds from 0.1 to 3600, got "x"',
      ]);
      return true;
    },
  );
});

Deno.test("USAGE lists the discovery flags", () => {
  for (const flag of DISCOVERY_FLAGS) {
    assert.ok(USAGE.includes(`  ${flag} `), `${flag} is in USAGE`);
  }
});

const DISCOVERY_FLAGS = [
  "--discovery",
  "--targets",
  "--service",
  "--namespace",
  "--port-name",
  "--kubeconfig",
  "--context",
];

Deno.test("parseConfig() reads and checks --body-timeout", async (t) => {
  await t.step("seconds become milliseconds", () => {
    assert.equal(parseConfig(["--body-timeout", "2.5"], {}).bodyTimeoutMs, 2500);
  });
  await t.step("out of range or not a number", () => {
    for (const text of ["0", "-1", "3601", "soon", ""]) {
      assert.throws(() => parseConfig([`--body-timeout=${text}`], {}), {
        name: "ConfigError",
        message: new RegExp(`--body-timeout must be seconds from 0.1 to 3600, got "${text}"`),
      });
    }
  });
  await t.step("USAGE names it", () => {
    assert.match(USAGE, /--body-timeout S .*408/s);
  });
});

import assert from "node:assert/strict";
import { ConfigError, parseConfig, SHARED_AUTOSCALER_ARGS } from "./config.ts";
import { parsePolicies, runFolderName } from "./policy_spec.ts";

const IMAGES = Deno.makeTempDirSync({ prefix: "experiment-config-" });
// A stand-in Prometheus: the parser only checks that the program exists.
const PROMETHEUS = `${IMAGES}/prometheus`;
Deno.writeTextFileSync(PROMETHEUS, "#!/bin/sh\n", { mode: 0o755 });
const CONTEXT = {
  defaultImages: IMAGES,
  experimentsDir: `${IMAGES}/experiments`,
  now: new Date("2026-12-04T18:30:05.123Z"),
};
const BASE = ["--prometheus-bin", PROMETHEUS];

function problemsOf(args: string[]): string[] {
  try {
    parseConfig(args, CONTEXT);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("parsePolicies() turns NAME:VALUE into the autoscaler's flags", () => {
  const problems: string[] = [];
  const specs = parsePolicies("rate, hpa:0.7,hpa:0.9,concurrency:1.5,latency:150", problems);
  assert.deepEqual(problems, []);
  assert.deepEqual(specs.map((spec) => spec.label), [
    "rate",
    "hpa:0.7",
    "hpa:0.9",
    "concurrency:1.5",
    "latency:150",
  ]);
  assert.deepEqual(specs[0].args, ["--policy", "rate"]);
  assert.deepEqual(specs[1].args, ["--policy", "hpa", "--hpa-target", "0.7"]);
  assert.deepEqual(specs[3].args, ["--policy", "concurrency", "--target-concurrency", "1.5"]);
  assert.deepEqual(specs[4].args, ["--policy", "latency", "--slo-ms", "150"]);
  assert.equal(runFolderName(specs[1], 1), "2-hpa-0.7");
});

Deno.test("parseConfig() applies the defaults", () => {
  const config = parseConfig(BASE, CONTEXT);
  assert.deepEqual(config.runs.map((run) => run.label), [
    "rate",
    "hpa:0.7",
    "hpa:0.9",
    "concurrency",
  ]);
  assert.equal(config.profileText, "spike");
  assert.equal(config.profile.kind, "spike");
  assert.equal(config.seed, 1);
  assert.equal(config.max, 4);
  assert.equal(config.repeat, 1);
  assert.equal(config.cooldownSeconds, 45);
  assert.equal(config.imageDir, IMAGES);
  assert.equal(config.outDir, `${IMAGES}/experiments/2026-12-04T18-30-05Z`);
  assert.deepEqual(config.runs[1].autoscalerArgs, [
    ...SHARED_AUTOSCALER_ARGS,
    "--max",
    "4",
    "--policy",
    "hpa",
    "--hpa-target",
    "0.7",
  ]);
});

Deno.test("parseConfig() reads the profile as the load tester does and finds its peak", () => {
  const spike = parseConfig([...BASE, "--profile", "spike:rate=2,peak=14,spike-at=10"], CONTEXT);
  assert.equal(spike.profile.kind, "spike");
  assert.deepEqual(spike.peak, { start: 10, end: 20, rate: 14 });
  const steps = parseConfig([...BASE, "--profile", "step:2:5,9:10,2:5"], CONTEXT);
  assert.deepEqual(steps.peak, { start: 5, end: 15, rate: 9 });
});

Deno.test("parseConfig() puts extra autoscaler flags last, so they win", () => {
  const config = parseConfig(
    [...BASE, "--policies", "hpa", "--autoscaler-flags=--hpa-scale-down-window 300"],
    CONTEXT,
  );
  assert.deepEqual(config.runs[0].autoscalerArgs.slice(-2), ["--hpa-scale-down-window", "300"]);
});

Deno.test("parseConfig() reports every problem at once, before any run", () => {
  const problems = problemsOf([
    "--policies",
    "rate,hpa:x,magic,rate,latency:5",
    "--profile",
    "spike:peak=-1",
    "--max",
    "99",
    "--seed",
    "one",
    "--cooldown=-1",
    "--images",
    `${IMAGES}/missing`,
    "--prometheus-bin",
    `${IMAGES}/no-prometheus`,
    "--autoscaler-flags=--interval 0",
  ]);
  // The load tester words the profile's own problems; only their place is ours.
  const PROFILE_PROBLEM = problems.find((text) => text.startsWith("--profile: "));
  assert.match(PROFILE_PROBLEM ?? "", /^--profile: --peak must be .*, got "-1"$/);
  assert.deepEqual(problems, [
    '--policies: the value of "hpa:x" must be a number above 0',
    "--policies: expected NAME or NAME:VALUE with NAME one of rate, hpa, concurrency, " +
    'latency, got "magic"',
    '--policies: "rate" appears twice; each run needs its own label',
    '--seed must be an integer from 0 to 4294967295, got "one"',
    '--max must be an integer from 1 to 16, got "99"',
    '--cooldown must be an integer from 0 to 3600, got "-1"',
    PROFILE_PROBLEM,
    'policies "rate", "latency:5": --interval must be seconds between 0.1 and 3600, got "0"',
    `--images: cannot find the folder ${IMAGES}/missing`,
    `Prometheus: "${IMAGES}/no-prometheus" was not found; install it with ` +
    "`sudo apt-get install -y prometheus` (Debian, Ubuntu) or put the release binary from " +
    "prometheus.io on PATH, or name it with --prometheus-bin",
  ]);
});

Deno.test("parseConfig() takes --repeat from 1 to 20 and nothing else", () => {
  assert.equal(parseConfig([...BASE, "--repeat", "3"], CONTEXT).repeat, 3);
  assert.equal(parseConfig([...BASE, "--repeat=20"], CONTEXT).repeat, 20);
  for (const bad of ["0", "21", "2.5", "two", ""]) {
    assert.deepEqual(problemsOf([...BASE, `--repeat=${bad}`]), [
      `--repeat must be an integer from 1 to 20, got "${bad}"`,
    ]);
  }
});

Deno.test("parseConfig() refuses an output folder that already holds files", () => {
  const problems = problemsOf([...BASE, "--out", IMAGES]);
  assert.deepEqual(problems, [
    `--out: ${IMAGES} already holds files; name a new folder so runs do not mix`,
  ]);
});

Deno.test("parseConfig() refuses a trace, which needs a file", () => {
  assert.deepEqual(problemsOf([...BASE, "--profile", "trace"]), [
    "--profile: Cannot use a trace in an experiment: choose another profile",
  ]);
});

/**
 * `deno task simulate`: replays traffic traces against a model of the fleet
 * with the live autoscaler's policies, in virtual time (an hour in well under
 * a second), prints what each policy cost and dropped, and draws an SVG.
 *
 * Flags it does not know go to the autoscaler's own parser, so
 * `--target-rate 6` or `--hpa-target 0.5` tune the simulated policy exactly as
 * they tune the live one.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ConfigError, settingsOrExit } from "@common/settings.ts";
import { writeLine } from "@common/write_line.ts";
import { parseConfig, POLICIES, type PolicyName } from "../config.ts";
import { type ClusterModel, DEFAULT_MODEL } from "./cluster.ts";
import { simulate, type SimulationResult } from "./run.ts";
import { chart } from "./svg.ts";
import { BUILT_IN, builtInTrace, csvTrace, type Trace } from "./traces.ts";

const USAGE = `Usage: deno task simulate [flags] [autoscaler flags]

  --policy LIST        policies to compare, comma-separated [${POLICIES.join(",")}]
  --trace LIST         ${BUILT_IN.join(", ")}, all, or a CSV file of time,rate rows [all]
  --base N             base rate of the built-in traces, requests/s [4]
  --slo-ms N           latency that counts as too slow [200]
  --service-ms N       mean service time of one image on one replica [${
  DEFAULT_MODEL.serviceSeconds * 1000
}]
  --service-cv N       its coefficient of variation [${DEFAULT_MODEL.serviceCv}]
  --replica-concurrency N  images a replica serves at once [${DEFAULT_MODEL.concurrency}]
  --replica-queue N    images a replica holds before refusing [${DEFAULT_MODEL.queue}]
  --startup S          seconds from start to ready [${DEFAULT_MODEL.startupSeconds}]
  --seed N             random seed [1]
  --out FILE           SVG chart [run/simulation.svg]

Other flags (--max, --target-rate, --hpa-target, ...) are the autoscaler's; see
deno task autoscale --help. Default here: --max 10.`;

const print = (line: string) => writeLine(Deno.stdout, line);
/** A latency for the table; "-" when no request was answered. */
const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(0) : "-");

interface SimulationSettings {
  policies: PolicyName[];
  traces: Trace[];
  model: ClusterModel;
  sloSeconds: number;
  seed: number;
  out: string;
  rest: string[];
}

const RULES: Record<string, string> = {
  base: "requests/s above 0",
  "slo-ms": "milliseconds above 0",
  "service-ms": "milliseconds above 0",
  "service-cv": "a number >= 0",
  "replica-concurrency": "an integer >= 1",
  "replica-queue": "an integer >= 0",
  startup: "seconds >= 0",
  seed: "an integer",
};

function parse(args: string[]): SimulationSettings {
  const own = [
    "policy",
    "trace",
    "base",
    "slo-ms",
    "service-ms",
    "service-cv",
    "replica-concurrency",
    "replica-queue",
    "startup",
    "seed",
    "out",
  ];
  const mine: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].replace(/^--/, "").split("=")[0];
    const target = own.includes(name) ? mine : rest;
    target.push(args[i]);
    if (!args[i].includes("=") && i + 1 < args.length && !args[i + 1].startsWith("--")) {
      target.push(args[++i]);
    }
  }
  const { values } = parseArgs({
    args: mine,
    options: Object.fromEntries(own.map((name) => [name, { type: "string" as const }])),
  });
  const problems: string[] = [];
  const num = (name: string, fallback: number, check: (n: number) => boolean) => {
    const text = values[name] as string | undefined;
    const value = text === undefined ? fallback : Number(text);
    if (!Number.isFinite(value) || !check(value)) {
      problems.push(`--${name} must be ${RULES[name] ?? "a valid number"}, got "${text}"`);
    }
    return value;
  };
  const policies = ((values.policy as string | undefined) ?? POLICIES.join(",")).split(",");
  for (const policy of policies) {
    if (!POLICIES.includes(policy as PolicyName)) {
      problems.push(`--policy: "${policy}" is not one of ${POLICIES.join(", ")}`);
    }
  }
  const base = num("base", 4, (n) => n > 0);
  const traces: Trace[] = [];
  for (const name of ((values.trace as string | undefined) ?? "all").split(",")) {
    if (name === "all") traces.push(...BUILT_IN.map((b) => builtInTrace(b, base)));
    else if ((BUILT_IN as readonly string[]).includes(name)) {
      traces.push(builtInTrace(name as typeof BUILT_IN[number], base));
    } else {
      let text: string | undefined;
      try {
        text = Deno.readTextFileSync(name);
      } catch {
        problems.push(
          `--trace: "${name}" is neither a built-in trace (${BUILT_IN.join(", ")}, all) ` +
            "nor a readable CSV file",
        );
      }
      try {
        if (text !== undefined) traces.push(csvTrace(name, text));
      } catch (error) {
        problems.push(`--trace: ${(error as Error).message}`);
      }
    }
  }
  const model: ClusterModel = {
    serviceSeconds: num("service-ms", DEFAULT_MODEL.serviceSeconds * 1000, (n) => n > 0) / 1000,
    serviceCv: num("service-cv", DEFAULT_MODEL.serviceCv, (n) => n >= 0),
    concurrency: num("replica-concurrency", DEFAULT_MODEL.concurrency, (n) => n >= 1),
    queue: num("replica-queue", DEFAULT_MODEL.queue, (n) => n >= 0),
    startupSeconds: num("startup", DEFAULT_MODEL.startupSeconds, (n) => n >= 0),
  };
  const sloSeconds = num("slo-ms", 200, (n) => n > 0) / 1000;
  const seed = num("seed", 1, Number.isInteger);
  if (problems.length > 0) throw new ConfigError("simulator", problems);
  return {
    policies: policies as PolicyName[],
    traces,
    model,
    sloSeconds,
    seed,
    out: (values.out as string | undefined) ?? "run/simulation.svg",
    rest,
  };
}

const settings = settingsOrExit(Deno.args, USAGE, () => parse(Deno.args));
// The chart's place is checked before minutes of simulation, not after.
try {
  await Deno.mkdir(settings.out.replace(/[^/]*$/, "") || ".", { recursive: true });
  await Deno.writeTextFile(settings.out, "");
} catch (error) {
  writeLine(Deno.stderr, `Cannot write the chart to ${settings.out}: ${(error as Error).message}`);
  Deno.exit(2);
}
// Every policy's settings are checked before the first run prints a line.
for (const policy of settings.policies) {
  settingsOrExit(
    [],
    USAGE,
    () => parseConfig(["--max", "10", ...settings.rest, "--policy", policy], {}),
  );
}
const runs: SimulationResult[] = [];
print(
  "trace     policy       requests  refused  over SLO   p95 ms   p99 ms  replica-s  events",
);
for (const trace of settings.traces) {
  for (const policy of settings.policies) {
    const config = settingsOrExit(
      [],
      USAGE,
      () => parseConfig(["--max", "10", ...settings.rest, "--policy", policy], {}),
    );
    const result = await simulate({
      config,
      trace,
      model: settings.model,
      sloSeconds: settings.sloSeconds,
      seed: settings.seed,
    });
    runs.push(result);
    print(
      `${trace.name.padEnd(9)} ${policy.padEnd(11)} ${String(result.requests).padStart(9)} ` +
        `${String(result.refused).padStart(8)} ${String(result.overSlo).padStart(9)} ` +
        `${ms(result.p95Ms).padStart(8)} ${ms(result.p99Ms).padStart(8)} ` +
        `${Math.round(result.replicaSeconds).toString().padStart(10)} ` +
        `${String(result.scaleEvents).padStart(7)}`,
    );
  }
}
await Deno.writeTextFile(settings.out, chart(runs));
print(`\nchart: ${settings.out}`);

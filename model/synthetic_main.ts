/**
 * Entry point of `deno task model:synthetic`: builds ResNet18 with seeded
 * random weights, offline, and writes it atomically. The file costs what the
 * real model costs to run, and its predictions mean nothing.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { createLogger } from "@common/log.ts";
import { writeFileAtomic } from "./atomic_file.ts";
import { sha256Hex } from "./sha256.ts";
import {
  buildSyntheticResNet18,
  DEFAULT_SEED,
  RESNET18_PARAMETERS,
  SYNTHETIC_MARK,
} from "./synthetic_model.ts";

const DEFAULT_OUT = "models/resnet18-synthetic.onnx";
const MAX_SEED = 0xffff_ffff;
/** A progress line every this many percent of the parameters. */
const PROGRESS_STEP = 10;

const USAGE = `Usage: deno task model:synthetic [flags]

Builds ResNet18 with seeded random weights, offline. Same seed, same bytes.
Its predictions are MEANINGLESS; it exists for load and latency work.

  --out FILE   where to write the model, relative to the current directory
               [${DEFAULT_OUT}]
  --seed N     seed of the weights, an integer from 0 to ${MAX_SEED} [${DEFAULT_SEED}]
  --help       show this text`;

function exitWithUsage(problem: string): never {
  // deno-lint-ignore no-console
  console.error(`${problem}\n\n${USAGE}`);
  Deno.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    args: Deno.args,
    strict: true,
    options: {
      out: { type: "string" },
      seed: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  }));
} catch (error) {
  exitWithUsage((error as Error).message);
}
if (values.help) {
  // deno-lint-ignore no-console
  console.log(USAGE);
  Deno.exit(0);
}

const seedText = values.seed ?? String(DEFAULT_SEED);
const seed = Number(seedText);
if (!/^\d+$/.test(seedText) || seed > MAX_SEED) {
  exitWithUsage(`--seed must be an integer from 0 to ${MAX_SEED}, got "${seedText}"`);
}
if (values.out !== undefined && values.out.trim() === "") exitWithUsage("--out must not be empty");
const out = resolve(values.out ?? DEFAULT_OUT);

const logger = createLogger({ component: "model-synthetic" });
logger.info("building synthetic ResNet18", { path: out, seed, parameters: RESNET18_PARAMETERS });
const started = performance.now();
let nextPercent = PROGRESS_STEP;
const model = buildSyntheticResNet18({
  seed,
  onProgress: (done, total) => {
    const percent = Math.floor((done * 100) / total);
    if (percent < nextPercent) return;
    logger.info("building", { percent, parameters: done, total });
    nextPercent = (Math.floor(percent / PROGRESS_STEP) + 1) * PROGRESS_STEP;
  },
});
const buildMs = Math.round(performance.now() - started);

try {
  await writeFileAtomic(out, model.bytes);
} catch (error) {
  logger.error("cannot write the model file", {
    path: out,
    error,
    hint: "check that the directory is writable, or choose another path with --out",
  });
  Deno.exit(1);
}

logger.info("wrote synthetic model", {
  path: out,
  bytes: model.bytes.length,
  sha256: sha256Hex(model.bytes),
  seed,
  parameters: model.parameters,
  build_ms: buildMs,
  [SYNTHETIC_MARK.key]: SYNTHETIC_MARK.value,
});
logger.warn("predictions of this model are MEANINGLESS: its weights are random, not trained", {
  [SYNTHETIC_MARK.key]: SYNTHETIC_MARK.value,
  hint: "`deno task model:fetch` downloads the real weights on a machine with internet access",
});

/**
 * Picks the model file the demo serves: the real weights when they are present
 * or can be downloaded, otherwise the synthetic ones, built when missing.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { Logger } from "@common/log.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Where the model tasks put their files. */
export const REAL_MODEL = `${ROOT}models/resnet18-v1-7.onnx`;
export const SYNTHETIC_MODEL = `${ROOT}models/resnet18-synthetic.onnx`;

/** The chosen model. */
export interface ModelChoice {
  path: string;
  weights: "real" | "synthetic";
}

/** Options of {@linkcode chooseModel}. */
export interface ChooseModelOptions {
  /** Skip the download attempt and use the synthetic weights. @default false */
  synthetic?: boolean;
  /** Seconds the download may take before the demo gives up on it. @default 120 */
  fetchTimeoutSeconds?: number;
  logger: Logger;
}

/**
 * Returns the model to serve, fetching or building it first when needed; the
 * tasks' own progress lines pass through to the terminal.
 *
 * @throws {Error} when neither model can be had
 */
export async function chooseModel(options: ChooseModelOptions): Promise<ModelChoice> {
  const { logger, synthetic = false, fetchTimeoutSeconds = 120 } = options;
  if (!synthetic) {
    if (await exists(REAL_MODEL)) return { path: REAL_MODEL, weights: "real" };
    logger.info("real ResNet18 weights not found; trying to download them");
    const fetched = await runTask("model/fetch_main.ts", [
      "--timeout",
      String(fetchTimeoutSeconds),
    ]);
    if (fetched && await exists(REAL_MODEL)) return { path: REAL_MODEL, weights: "real" };
    logger.warn("download failed; falling back to the SYNTHETIC weights", {
      hint: "run `deno task model:fetch` on a machine with internet access for real ones",
    });
  }
  if (!await exists(SYNTHETIC_MODEL)) {
    logger.info("building the synthetic ResNet18 (same cost as the real one, no meaning)");
    if (!await runTask("model/synthetic_main.ts", ["--out", SYNTHETIC_MODEL])) {
      throw new Error("Cannot build the synthetic model: see the output of model:synthetic above");
    }
  }
  return { path: SYNTHETIC_MODEL, weights: "synthetic" };
}

async function runTask(script: string, args: string[]): Promise<boolean> {
  const status = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${ROOT}${script}`, ...args],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return status.success;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * `deno task experiment`: runs the local system once per policy (or
 * `--repeat` times, interleaved) under the same load, each run from a clean
 * start, and writes `run.json` per run plus `compare.json` and
 * `compare.html`, then prints the comparison table.
 *
 * Progress lines, decisions and the table are this tool's product, printed
 * for a person; diagnostics go through the JSON logger. Exit codes: 0 done,
 * 1 a run failed, 2 bad settings, 130 interrupted.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createLogger } from "@common/log.ts";
import { seededUniform } from "@common/seeded.ts";
import { findSharedImages } from "@common/shared_images.ts";
import { settingsOrExit } from "@common/settings.ts";
import { onShutdown } from "@common/shutdown.ts";
import { writeLine } from "@common/write_line.ts";
import { chooseModel, REAL_MODEL } from "../demo/model_choice.ts";
import { formatProgress } from "../loadtest/format.ts";
import { type ImageFile, loadImages } from "../loadtest/images.ts";
import { profileSeconds } from "../loadtest/profile.ts";
import { renderComparison } from "../loadtest/report.ts";
import { compareRuns, formatComparison } from "./compare.ts";
import { chartedRuns, comparisonSection } from "./compare_html.ts";
import { parseConfig, USAGE } from "./config.ts";
import { runPolicy, type RunRecord } from "./run_policy.ts";
import { runName, scheduleRuns } from "./schedule.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const shared = findSharedImages();
const print = (line: string) => writeLine(Deno.stdout, line);

const config = settingsOrExit(Deno.args, USAGE, () =>
  parseConfig(Deno.args, {
    defaultImages: shared === undefined ? `${ROOT}images` : `${shared}/imagenet-sample`,
    experimentsDir: `${ROOT}run/experiments`,
    now: new Date(),
  }));
const logger = createLogger({
  component: "experiment",
  level: "warn",
  write: (line) => writeLine(Deno.stderr, line),
});
const stopping = new AbortController();
onShutdown((cause) => {
  print(`\n${cause}: stopping the current run; no further run starts ...`);
  stopping.abort();
});

// The real weights when they are here; never a download attempt, so that an
// experiment reaches nothing beyond this machine.
let modelPath = config.modelPath;
if (modelPath === undefined && existsSync(REAL_MODEL)) modelPath = REAL_MODEL;
if (modelPath === undefined) {
  modelPath = (await chooseModel({ synthetic: true, logger })).path;
  print("Serving SYNTHETIC ResNet18 weights: the same cost as the real model, so the");
  print(
    "comparison holds; `deno task model:fetch` where the internet is reachable gets real ones.",
  );
} else {
  print(`Serving the model ${modelPath}`);
}

const { images } = await loadImages(config.imageDir);
if (images.length === 0) {
  print(`No JPEG or PNG file in ${config.imageDir}: pass --images DIR naming a folder of photos`);
  Deno.exit(2);
}
const ordered = shuffle(images, config.seed);

await Deno.mkdir(config.outDir, { recursive: true });
const { peak } = config;
const schedule = scheduleRuns(config.runs, config.repeat);
const times = config.repeat > 1 ? ` (${config.runs.length} policies x ${config.repeat})` : "";
print(
  `Experiment: ${schedule.length} runs${times} of load "${config.profileText}" ` +
    `(${profileSeconds(config.profile)} s, peak ${peak.rate}/s ` +
    `from ${peak.start} s to ${peak.end} s), then ${config.cooldownSeconds} s of ` +
    `cooldown each; ${ordered.length} photos, seed ${config.seed}`,
);
print(`Results: ${config.outDir}`);

const records: RunRecord[] = [];
const files: string[] = [];
let exitCode = 0;
for (const [index, { run, repeat, repeats, folder }] of schedule.entries()) {
  if (stopping.signal.aborted) break;
  const dir = `${config.outDir}/${folder}`;
  const tag = `[${runName(run.label, repeat, repeats)}]`;
  const which = repeats > 1 ? ` (${run.label}, repeat ${repeat}/${repeats})` : `: ${run.label}`;
  print(`\n== Run ${index + 1}/${schedule.length}${which} ==`);
  print(`autoscaler flags: ${run.autoscalerArgs.join(" ")}`);
  try {
    const record = await runPolicy({
      run,
      repeat,
      dir,
      modelPath,
      prometheusBin: config.prometheusBin,
      profileText: config.profileText,
      profile: config.profile,
      seed: config.seed,
      peak,
      images: ordered,
      imageDir: config.imageDir,
      cooldownSeconds: config.cooldownSeconds,
      signal: stopping.signal,
      onReady: (urls) =>
        print(`${tag} system up: dispatcher ${urls.dispatcher}, Prometheus ${urls.prometheus}`),
      onProgress: (progress) => print(`${tag} ${formatProgress(progress)}`),
      onDecision: (decision) =>
        print(
          `${tag}   >> ${decision.t.toFixed(1)} s: scale ${decision.direction} ` +
            `${decision.current} -> ${decision.desired}: ${decision.reason}`,
        ),
      logger,
    });
    const file = `${folder}/run.json`;
    await Deno.writeTextFile(`${config.outDir}/${file}`, JSON.stringify(record, null, 2) + "\n");
    records.push(record);
    files.push(file);
    const { decisions, replicaEvents } = record.experiment;
    const logged = Object.entries(decisions.logged)
      .map(([direction, count]) => `${direction} ${count}`).join(", ");
    const ups = decisions.applied.filter((d) => d.direction === "up").length;
    const downs = decisions.applied.filter((d) => d.direction === "down").length;
    print(
      `${tag} done: ${record.summary.ok}/${record.summary.sent} ok; decisions logged: ` +
        `${logged || "none"}; applied ${ups} up, ${downs} down; fleet back to ` +
        `${replicaEvents.at(-1)?.replicas} replica(s); ${file}`,
    );
  } catch (error) {
    print(
      `${tag} failed: ${(error as Error).message}\n` +
        `See the logs in ${dir}/logs/; fix the cause and run the experiment again.`,
    );
    exitCode = 1;
    break;
  }
}

if (records.length > 0) {
  const comparison = compareRuns(records, files, new Date());
  await Deno.writeTextFile(
    `${config.outDir}/compare.json`,
    JSON.stringify(comparison, null, 2) + "\n",
  );
  // One page: the comparison table, then the load tester's charts with the
  // runs overlaid and its summary of every percentile and error kind.
  await Deno.writeTextFile(
    `${config.outDir}/compare.html`,
    renderComparison(
      chartedRuns(comparison, records),
      {
        title: `Autoscaling experiment: ${config.profileText}`,
        sections: [comparisonSection(comparison)],
      },
    ),
  );
  print(`\n${formatComparison(comparison)}`);
  print(`\nWrote ${config.outDir}/compare.json and compare.html`);
}
if (stopping.signal.aborted) exitCode = 130;
Deno.exit(exitCode);

// Fisher-Yates with the seeded generator: every run sends the photos in the
// same order, and another seed gives another order.
function shuffle(list: readonly ImageFile[], seed: number): ImageFile[] {
  const random = seededUniform(seed);
  const copy = [...list];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

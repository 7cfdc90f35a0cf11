/**
 * `deno task bench:model`: the in-process ceiling and one replica over HTTP,
 * at saturation and at low load, measured in one run on this machine, with
 * the goals of the model service checked against the figures.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { findSharedImages } from "@common/shared_images.ts";
import { startService } from "@common/service_process.ts";
import { REPLICA_ENV } from "@common/replica_env.ts";
import { waitForHttp } from "@common/wait_http.ts";
import { writeLine } from "@common/write_line.ts";
import { loadImages } from "../../loadtest/images.ts";
import { chooseDecoder, type DecoderChoice } from "../choose_decoder.ts";
import { Classifier } from "../classifier.ts";
import { REAL_MODEL, SYNTHETIC_MODEL } from "../config.ts";
import { cpuBudget } from "../cpu_budget.ts";
import { buildSyntheticResNet18 } from "../synthetic_model.ts";
import { batchGain, ceiling } from "./in_process.ts";
import { lowLoad, saturate, type SaturationFigures } from "./over_http.ts";
import { type PhaseFigures, processMemoryMb } from "./stats.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const USAGE = `Usage: deno task bench:model [flags] [-- replica flags]

  --seconds S      length of each phase [15]
  --threads N      ONNX Runtime threads, in process and in the replica [CPU budget]
  --decoder NAME   auto, sharp or imagescript [auto]
  --clients N      concurrent clients that saturate the replica [6]
  --low-rate N     requests per second of the low-load phase [5]
  --images DIR     photos [shared imagenet-sample, else images/]
  --model FILE     ONNX model [${REAL_MODEL} if present, else ${SYNTHETIC_MODEL}, built if missing]

Flags after -- go to the replica (e.g. -- --max-in-flight 2).`;

const print = (line: string) => writeLine(Deno.stdout, line);
const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    seconds: { type: "string", default: "15" },
    threads: { type: "string" },
    decoder: { type: "string", default: "auto" },
    clients: { type: "string", default: "6" },
    "low-rate": { type: "string", default: "5" },
    images: { type: "string" },
    model: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  print(USAGE);
  Deno.exit(0);
}
const seconds = Number(values.seconds);
const threads = values.threads ? Number(values.threads) : cpuBudget().cpus;
const clients = Number(values.clients);
const lowRate = Number(values["low-rate"]);
const shared = findSharedImages();
const imageDir = values.images ?? (shared ? `${shared}/imagenet-sample` : `${ROOT}images`);
const modelPath = values.model ??
  (existsSync(`${ROOT}${REAL_MODEL}`) ? `${ROOT}${REAL_MODEL}` : `${ROOT}${SYNTHETIC_MODEL}`);
if (!existsSync(modelPath)) {
  print(`building the synthetic model at ${modelPath} ...`);
  await Deno.mkdir(`${ROOT}models`, { recursive: true });
  await Deno.writeFile(modelPath, buildSyntheticResNet18().bytes);
}

const { images } = await loadImages(imageDir);
const { decoder } = await chooseDecoder(values.decoder as DecoderChoice);
print(
  `model ${modelPath}\nimages ${images.length} from ${imageDir}\n` +
    `decoder ${decoder.name}, ${threads} ONNX Runtime threads, ` +
    `${navigator.hardwareConcurrency} cores, ${seconds} s per phase`,
);

// The replica runs first, while this process has loaded nothing heavy, so
// the load generator and the replica share a quiet machine.
print(`[http] starting one replica ...`);
const replica = await startService({
  name: "replica",
  env: { ...REPLICA_ENV },
  args: [
    "run",
    "--allow-all",
    `${ROOT}model/main.ts`,
    "--port",
    "0",
    "--threads",
    String(threads),
    "--decoder",
    decoder.name,
    "--model",
    modelPath,
    "--exit-with-parent",
    ...positionals,
  ],
});
const baseUrl = `http://127.0.0.1:${replica.port}`;
let low: PhaseFigures;
let saturated: SaturationFigures;
let idle: ReturnType<typeof processMemoryMb>;
let loaded: ReturnType<typeof processMemoryMb>;
try {
  await waitForHttp(`${baseUrl}/readyz`, { timeoutMs: 60_000 });
  idle = processMemoryMb(replica.pid);
  print(`[http] one client, ${lowRate} requests/s for ${seconds} s (low load) ...`);
  low = await lowLoad(baseUrl, images, lowRate, seconds);
  print(`[http] ${clients} clients for ${seconds} s (saturation) ...`);
  saturated = await saturate(baseUrl, images, clients, seconds);
  loaded = processMemoryMb(replica.pid);
  saturated.load.rssMb = loaded?.rss;
} finally {
  await replica.stop();
}

const ceilings: Array<[string, PhaseFigures]> = [];
const classifier = await Classifier.load(modelPath, threads);
const bytes = images.map((image) => image.bytes);
await ceiling(classifier, decoder, bytes, 1, 2); // warm-up
for (const pipelines of [1, 2, 4]) {
  print(`[in process] ${pipelines} pipeline(s) for ${seconds} s ...`);
  const result = await ceiling(classifier, decoder, bytes, pipelines, seconds);
  result.rssMb = Deno.memoryUsage().rss / 2 ** 20;
  ceilings.push([`in process, ${pipelines} pipeline(s)`, result]);
}
print(`[in process] inference alone, batch 1 then batch 4, ${seconds / 2} s each ...`);
const batching = await batchGain(classifier, 4, seconds / 2);
await classifier.close();
const ceilingRate = Math.max(...ceilings.map(([, r]) => r.imagesPerSecond));

const rows: Array<[string, PhaseFigures]> = [
  ...ceilings,
  [`HTTP, low load ${lowRate}/s`, low],
  [`HTTP, saturated (${clients} clients)`, saturated.load],
  ["  /healthz while saturated", saturated.healthz],
  ["  /metrics while saturated", saturated.metrics],
];
print("");
print("phase                            images/s   p50 ms   p95 ms   p99 ms   RSS MB  of ceiling");
for (const [name, r] of rows) {
  const rate = name.includes("/healthz") || name.includes("/metrics")
    ? "       -"
    : r.imagesPerSecond.toFixed(1).padStart(8);
  const share = name.startsWith("HTTP, sat")
    ? `${(100 * r.imagesPerSecond / ceilingRate).toFixed(0)} %`.padStart(11)
    : "";
  print(
    `${name.padEnd(32)} ${rate} ${r.p50Ms.toFixed(1).padStart(8)} ` +
      `${r.p95Ms.toFixed(1).padStart(8)} ${r.p99Ms.toFixed(1).padStart(8)} ` +
      `${r.rssMb === undefined ? "       -" : r.rssMb.toFixed(0).padStart(8)}${share}`,
  );
  const failed = Object.entries(r.failures);
  if (failed.length > 0) print(`  failures: ${failed.map(([k, v]) => `${k} x${v}`).join(", ")}`);
}
const gain = 100 * (batching.batched / batching.single - 1);
print(
  `\ninference alone: batch 1 ${batching.single.toFixed(1)} images/s, batch 4 ` +
    `${batching.batched.toFixed(1)} images/s (${gain >= 0 ? "+" : ""}${gain.toFixed(1)} %)`,
);
print(
  `replica memory: ${idle?.rss.toFixed(0)} MB idle, ${loaded?.rss.toFixed(0)} MB after ` +
    `saturation (${loaded?.anonymous.toFixed(0)} MB of it the process's own, the rest shared ` +
    `code), ${loaded?.peak.toFixed(0)} MB peak`,
);

const rate = saturated.load.imagesPerSecond;
const goals: Array<[string, boolean]> = [
  [`saturated throughput >= 38 images/s: ${rate.toFixed(1)}`, rate >= 38],
  [
    `>= 1.6 x PyTorch + FastAPI (24 images/s): ${(rate / 24).toFixed(2)} x`,
    rate >= 1.6 * 24,
  ],
  [`p50 at low load <= 30 ms: ${low.p50Ms.toFixed(1)} ms`, low.p50Ms <= 30],
  [
    `/healthz and /metrics p99 <= 50 ms while saturated: ` +
    `${saturated.healthz.p99Ms.toFixed(1)} and ${saturated.metrics.p99Ms.toFixed(1)} ms`,
    saturated.healthz.p99Ms <= 50 && saturated.metrics.p99Ms <= 50,
  ],
  [
    `resident memory <= 250 MB: ${loaded?.rss.toFixed(0)} MB after saturation, ` +
    `${loaded?.peak.toFixed(0)} MB peak`,
    (loaded?.rss ?? Infinity) <= 250,
  ],
];
print("\ngoals (one replica, real JPEGs over HTTP, load generator on the same cores):");
for (const [text, met] of goals) print(`  ${met ? "met " : "MISS"}  ${text}`);

/**
 * Entry point of `deno task load`: sends the images of a folder at the
 * configured rate, prints one line per second and a summary at the end.
 *
 * Progress and summary are this tool's product, written for a person as plain
 * text (the summary as JSON with --json, for scripts); diagnostics go through
 * the JSON logger on stderr. Exit codes: 0 done, 1 no request succeeded at
 * all, or some request failed and --fail-on-error was given, 2 bad settings,
 * no images or an output that could not be written.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { createLogger } from "@common/log.ts";
import { writeLine } from "@common/write_line.ts";
import { settingsOrExit } from "@common/settings.ts";
import { onShutdown } from "@common/shutdown.ts";
import { findSharedImages } from "@common/shared_images.ts";
import { defaultImagesDir, parseConfig, USAGE } from "./config.ts";
import { formatProgress, formatSummary } from "./format.ts";
import { loadImages } from "./images.ts";
import { prometheusReplicas } from "./prometheus_replicas.ts";
import { recordRun } from "./record_run.ts";
import { renderReport } from "./report.ts";
import { sameTarget } from "./same_file.ts";

const env = Deno.env.toObject();
const config = settingsOrExit(
  Deno.args,
  USAGE,
  () =>
    parseConfig(Deno.args, env, undefined, defaultImagesDir(findSharedImages(env.SHARED_IMAGES))),
);

const logger = createLogger({
  component: "loadtest",
  level: config.logLevel,
  write: (line) => writeLine(Deno.stderr, line),
});

let loaded;
try {
  loaded = await loadImages(config.imagesDir);
} catch (error) {
  logger.error("cannot load images", {
    dir: config.imagesDir,
    error,
    hint: "pass --images DIR naming a folder with JPEG or PNG files",
  });
  Deno.exit(2);
}
// Info, not warn: a folder may hold a README or other files on purpose.
if (loaded.skipped.length > 0) {
  logger.info("not sending files that are neither JPEG nor PNG", {
    dir: config.imagesDir,
    files: loaded.skipped,
  });
}

const stop = new AbortController();
const removeSignals = onShutdown((cause) => {
  // Draining can take up to --drain-timeout; without our listeners a second
  // signal gets its default action and ends the process at once.
  removeSignals();
  logger.info("stopping early: no new arrivals, waiting for answers", {
    cause,
    drainTimeoutMs: config.drainTimeoutMs,
    hint: "signal again to quit without waiting",
  });
  stop.abort();
});

// Refuse an unwritable output before the run rather than lose a long run after it.
for (const [flag, path] of [["--out", config.outPath], ["--report", config.reportPath]]) {
  if (path === undefined) continue;
  try {
    if (!(await Deno.stat(dirname(resolve(path)))).isDirectory) throw new Deno.errors.NotFound();
  } catch {
    logger.error("cannot write there: the folder does not exist", {
      flag,
      path,
      hint: "create the folder first or pass another path",
    });
    Deno.exit(2);
  }
}

// Both outputs are written after the run: the second would silently replace the first.
if (
  config.outPath !== undefined && config.reportPath !== undefined &&
  await sameTarget(config.outPath, config.reportPath)
) {
  logger.error("--out and --report name the same file: the report would replace the run", {
    out: config.outPath,
    report: config.reportPath,
    hint: "pass two different paths, e.g. --out run.json --report run.html",
  });
  Deno.exit(2);
}

logger.info("starting", {
  url: config.url,
  profile: config.profile,
  closedLoop: config.closedLoop,
  images: loaded.images.length,
  imagesDir: config.imagesDir,
  maxOutstanding: config.maxOutstanding,
});
const progressStream = config.json ? Deno.stderr : Deno.stdout;
const record = await recordRun({
  url: config.url,
  ...(config.closedLoop ? { closedLoop: config.closedLoop } : { profile: config.profile! }),
  images: loaded.images,
  imagesDir: config.imagesDir,
  maxOutstanding: config.maxOutstanding,
  requestTimeoutMs: config.requestTimeoutMs,
  drainTimeoutMs: config.drainTimeoutMs,
  replicas: config.prometheusUrl
    ? prometheusReplicas(config.prometheusUrl, {
      onChange: (change) => {
        if (change.known) {
          logger.info("replicas known again: Prometheus answers", { prometheus: change.url });
        } else {
          logger.warn("replica count unknown: Prometheus does not answer the query", {
            prometheus: change.url,
            error: change.reason,
            hint: "check that Prometheus runs at that URL and scrapes the model replicas; " +
              "the run goes on without the replicas column",
          });
        }
      },
    })
    : undefined,
  prometheusUrl: config.prometheusUrl,
  onProgress: (progress) => writeLine(progressStream, formatProgress(progress)),
  signal: stop.signal,
});
removeSignals();
const summary = record.summary;

// A run without a single 2xx answer measured nothing but the failure (a wrong
// --url, a server that is down): scripts must not take it for a result.
let exitCode = 0;
if (summary.offered > 0 && summary.ok === 0) {
  logger.error("no request succeeded", {
    url: config.url,
    failed: summary.failed,
    errors: summary.errors,
    hint: "check that --url names a running /classify endpoint; the summary lists the errors",
  });
  exitCode = 1;
} else if (config.failOnError && summary.failed > 0) {
  exitCode = 1;
}
const outputs: [string | undefined, () => string][] = [
  [config.outPath, () => JSON.stringify(record, null, 2) + "\n"],
  [config.reportPath, () => renderReport(record)],
];
for (const [path, render] of outputs) {
  if (path === undefined) continue;
  try {
    await Deno.writeTextFile(path, render());
    logger.info("wrote", { path });
  } catch (error) {
    logger.error("cannot write output", { path, error, hint: "check the path and its rights" });
    exitCode = 2;
  }
}

writeLine(Deno.stdout, config.json ? JSON.stringify(summary) : formatSummary(summary));
Deno.exit(exitCode);

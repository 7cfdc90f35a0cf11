/**
 * Entry point of `deno task report`: renders run.json files into one HTML
 * page, a report for one file or a comparison for several.
 *
 * Usage: `deno task report RUN.json [MORE.json ...] --out PAGE.html [--title T]`.
 * Runs are labelled by file name without `.json`. Exit codes: 0 written,
 * 2 bad arguments, a file that is missing or not a valid run.json, an output
 * whose folder does not exist, or an output that is one of the inputs.
 *
 * @module
 */

import { basename, dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createLogger } from "@common/log.ts";
import { writeLine } from "@common/write_line.ts";
import { renderComparison, renderReport } from "./report.ts";
import { readRunRecord, type RunRecord } from "./run_record.ts";
import { sameFile } from "./same_file.ts";

const USAGE = `Usage: deno task report RUN.json [MORE.json ...] --out PAGE.html [--title TEXT]

  One file gives a report of that run; several give one comparison page with
  a series per run, labelled by file name.`;

const logger = createLogger({
  component: "loadtest-report",
  level: "info",
  write: (line) => writeLine(Deno.stderr, line),
});

let parsed;
try {
  parsed = parseArgs({
    args: Deno.args,
    options: {
      out: { type: "string" },
      title: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
  });
} catch (error) {
  logger.error("bad arguments", { error: (error as Error).message, usage: USAGE });
  Deno.exit(2);
}
if (parsed.values.help) {
  writeLine(Deno.stdout, USAGE);
  Deno.exit(0);
}
const files = parsed.positionals;
const out = parsed.values.out;
if (files.length === 0 || out === undefined) {
  logger.error("expected at least one run.json and --out PAGE.html", { usage: USAGE });
  Deno.exit(2);
}

// Checked before any reading, as `deno task load --out` does, so a typo in the
// folder is one line rather than a stack trace after the work is done.
try {
  if (!(await Deno.stat(dirname(resolve(out)))).isDirectory) throw new Deno.errors.NotFound();
} catch {
  logger.error("cannot write there: the folder does not exist", {
    out,
    hint: "create the folder first or pass another --out path",
  });
  Deno.exit(2);
}

// Writing the page over an input would destroy the run it was drawn from.
// A hard link has a path of its own, so the check compares device and inode too.
const clash = await findAsync(files, (file) => sameFile(file, out));
if (clash !== undefined) {
  logger.error("refusing to overwrite an input: --out names one of the run files", {
    out,
    input: clash,
    hint: "pass another --out path, e.g. one ending in .html",
  });
  Deno.exit(2);
}

const runs: { label: string; run: RunRecord }[] = [];
for (const file of files) {
  try {
    const run = await readRunRecord(file);
    let label = basename(file).replace(/\.json$/i, "");
    // Two folders may each hold a run.json: number the repeats.
    for (let n = 2; runs.some((r) => r.label === label); n++) label = `${label}-${n}`;
    runs.push({ label, run });
  } catch (error) {
    logger.error("cannot read run", {
      file,
      error: (error as Error).message,
      hint: "pass a file that `deno task load --out` wrote",
    });
    Deno.exit(2);
  }
}

const title = parsed.values.title;
const page = runs.length === 1
  ? renderReport(runs[0].run, { title })
  : renderComparison(runs, { title });
try {
  await Deno.writeTextFile(out, page);
} catch (error) {
  logger.error("cannot write the report", {
    out,
    error: (error as Error).message,
    hint: "check the path and its rights",
  });
  Deno.exit(2);
}
logger.info("wrote report", { out, runs: runs.map((r) => r.label) });

async function findAsync<T>(
  items: readonly T[],
  test: (item: T) => Promise<boolean>,
): Promise<T | undefined> {
  for (const item of items) if (await test(item)) return item;
  return undefined;
}

/**
 * Entry point of `deno task report`: renders run.json files into one HTML
 * page, a report for one file or a comparison for several.
 *
 * Usage: `deno task report RUN.json [MORE.json ...] --out PAGE.html [--title T]`.
 * Runs are labelled by file name without `.json`. Exit codes: 0 written,
 * 2 bad arguments or a file that is missing or not a valid run.json.
 *
 * @module
 */

import { basename } from "node:path";
import { parseArgs } from "node:util";
import { createLogger } from "@common/log.ts";
import { writeLine } from "@common/write_line.ts";
import { renderComparison, renderReport } from "./report.ts";
import { readRunRecord, type RunRecord } from "./run_record.ts";

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
await Deno.writeTextFile(out, page);
logger.info("wrote report", { out, runs: runs.map((r) => r.label) });

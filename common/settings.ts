/**
 * What every entry point does with its settings before it does anything else:
 * answer `--help`, collect every invalid setting into one error, and exit 2
 * with that list, so a user fixes all mistakes in one go.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { type LogLevel, parseLogLevel } from "./log.ts";
import { writeLine } from "./write_line.ts";

/** Settings that failed validation, all of them at once. */
export class ConfigError extends Error {
  /** One sentence per invalid setting. */
  readonly problems: string[];

  /** `subject` names the component, e.g. "dispatcher". */
  constructor(subject: string, problems: string[]) {
    super(`Invalid ${subject} settings:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/**
 * Reads `LOG_LEVEL` (default info); an invalid value becomes a problem in
 * `problems` and info is used meanwhile.
 */
export function logLevelSetting(text: string | undefined, problems: string[]): LogLevel {
  try {
    return parseLogLevel(text ?? "info");
  } catch (error) {
    problems.push(`LOG_LEVEL: ${(error as Error).message}`);
    return "info";
  }
}

/** Where {@linkcode settingsOrExit} writes; injectable for tests. */
export interface Terminal {
  out(text: string): void;
  err(text: string): void;
  exit(code: number): never;
}

const TERMINAL: Terminal = {
  out: (text) => writeLine(Deno.stdout, text),
  err: (text) => writeLine(Deno.stderr, text),
  exit: (code) => Deno.exit(code),
};

/**
 * Prints `usage` and exits 0 on `--help` or `-h`; otherwise returns what
 * `parse` returns, or prints its error and exits 2.
 */
export function settingsOrExit<T>(
  args: string[],
  usage: string,
  parse: () => T,
  terminal: Terminal = TERMINAL,
): T {
  if (args.includes("--help") || args.includes("-h")) {
    terminal.out(usage);
    return terminal.exit(0);
  }
  try {
    return parse();
  } catch (error) {
    terminal.err(`${(error as Error).message}\nRun with --help for the list of flags.`);
    return terminal.exit(2);
  }
}

/** The `options` of node's `parseArgs`: each flag's type, short name and default. */
export type FlagOptions = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses `args` strictly against `options`; an unknown flag or a missing
 * value becomes a {@linkcode ConfigError} naming the culprit.
 */
export function parseFlags<const O extends FlagOptions>(
  subject: string,
  args: string[],
  options: O,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true }>>["values"] {
  try {
    return parseArgs({ args, options, strict: true }).values;
  } catch (error) {
    throw new ConfigError(subject, [(error as Error).message]);
  }
}

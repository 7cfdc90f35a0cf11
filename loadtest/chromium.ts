/**
 * Headless Chromium for checking reports the way a reader sees them: the page
 * runs its script, then the DOM it built (or a screenshot) is taken. Only
 * `file://` pages are opened, with background networking and component
 * updates off, so nothing leaves the machine.
 *
 * @module
 */

import { pathToFileURL } from "node:url";
import { findExecutable } from "@common/find_executable.ts";

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM = "/usr/bin/chromium";

/** The browser's path, or undefined when it is not installed. */
export function findChromium(): string | undefined {
  return findExecutable(CHROMIUM) ?? findExecutable("chromium");
}

/** Options of {@linkcode dumpDom} and {@linkcode screenshot}. */
export interface ChromiumOptions {
  /** The browser. @default findChromium() */
  chromium?: string;
  /** Give up after this long, in ms. @default 60000 */
  timeoutMs?: number;
}

/**
 * The DOM of the HTML file at `path` after its scripts ran (up to 5 s of
 * virtual time).
 *
 * @throws {Deno.errors.NotFound} when Chromium is not installed
 * @throws {Error} when Chromium fails or times out, with its last words
 */
export async function dumpDom(path: string, options: ChromiumOptions = {}): Promise<string> {
  return await runChromium(["--dump-dom", pathToFileURL(path).href], options);
}

/**
 * Renders the HTML file at `path` to the PNG `png`, `width` x `height` pixels.
 *
 * @throws as {@linkcode dumpDom} does
 */
export async function screenshot(
  path: string,
  png: string,
  options: ChromiumOptions & { width?: number; height?: number } = {},
): Promise<void> {
  const { width = 1200, height = 1600 } = options;
  await runChromium([
    `--screenshot=${png}`,
    `--window-size=${width},${height}`,
    pathToFileURL(path).href,
  ], options);
}

async function runChromium(args: string[], options: ChromiumOptions): Promise<string> {
  const chromium = options.chromium ?? findChromium();
  if (chromium === undefined) {
    throw new Deno.errors.NotFound(
      `Cannot start Chromium: ${CHROMIUM} is missing; install it with apt-get install chromium`,
    );
  }
  // A fresh profile per call: no state shared with another run or user.
  const profile = await Deno.makeTempDir({ prefix: "loadtest-chromium-" });
  try {
    const command = new Deno.Command(chromium, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        `--user-data-dir=${profile}`,
        "--virtual-time-budget=5000",
        ...args,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
    });
    const output = await command.output();
    const decoder = new TextDecoder();
    if (!output.success) {
      const last = decoder.decode(output.stderr).trim().split("\n").slice(-3).join(" | ");
      throw new Error(`Chromium failed (exit ${output.code}, signal ${output.signal}): ${last}`);
    }
    return decoder.decode(output.stdout);
  } finally {
    await Deno.remove(profile, { recursive: true });
  }
}

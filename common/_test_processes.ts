/**
 * Test helper: which processes are still running with a given text in their
 * command line. End-to-end tests start their children with a temporary
 * folder in every command line, then assert that none outlives the test.
 * Reads `/proc`, so it works on Linux only, where these tests run.
 *
 * @module
 */

// Enough of a command line to tell which program it is and with what folder.
const SHOWN_CHARACTERS = 160;

/**
 * Processes other than this one whose command line contains `marker`, each
 * as `"<pid>: <command line>"`; empty when there is none.
 */
export function processesMentioning(marker: string): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name) || Number(entry.name) === Deno.pid) continue;
    let cmdline: string;
    try {
      cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
    } catch {
      // It ended between the listing and the read: it is not running.
      continue;
    }
    const line = cmdline.replaceAll("\0", " ").trim();
    if (line.includes(marker)) found.push(`${entry.name}: ${line.slice(0, SHOWN_CHARACTERS)}`);
  }
  return found;
}

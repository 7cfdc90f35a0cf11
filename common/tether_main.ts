/**
 * Runs a program that knows nothing of this project's lifeline (Prometheus)
 * on one: `deno run --allow-run common/tether_main.ts -- PROGRAM ARGS...`.
 * The program dies with whoever started this process, even when that parent
 * is killed with SIGKILL, because this process's stdin then reaches end of
 * file. SIGTERM and SIGINT are passed on; the exit code is the program's.
 *
 * @module
 */

import { onShutdown } from "./shutdown.ts";
import { writeLine } from "./write_line.ts";

const separator = Deno.args.indexOf("--");
const [program, ...args] = separator === -1 ? Deno.args : Deno.args.slice(separator + 1);
if (!program) {
  writeLine(Deno.stderr, "Usage: tether_main.ts -- PROGRAM [ARGS...]");
  Deno.exit(2);
}

let child: Deno.ChildProcess;
try {
  child = new Deno.Command(program, { args, stdin: "null" }).spawn();
} catch (error) {
  writeLine(Deno.stderr, `Cannot start ${program}: ${(error as Error).message}`);
  Deno.exit(127);
}

onShutdown((cause) => {
  const signal = cause === "SIGINT" ? "SIGINT" : "SIGTERM";
  try {
    child.kill(signal);
  } catch {
    // It has exited already.
  }
  // A program that ignores the request is stopped for good after 15 s.
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // It exited meanwhile.
    }
  }, 15_000);
  Deno.unrefTimer(timer);
}, { exitWithParent: true });

const status = await child.status;
Deno.exit(status.code);

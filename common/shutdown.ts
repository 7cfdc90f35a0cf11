/**
 * One way for every process to learn it should stop: SIGTERM, SIGINT, or (with
 * `exitWithParent`) its stdin reaching end of file, which happens when the
 * parent that holds the other end dies, even by SIGKILL.
 *
 * @module
 */

/** Options of {@linkcode onShutdown}. */
export interface OnShutdownOptions {
  /** Also stop when stdin closes. @default false */
  exitWithParent?: boolean;
}

/**
 * Calls `stop` once, with the cause, on the first shutdown request. Returns a
 * function that removes the signal listeners again (for tests).
 */
export function onShutdown(
  stop: (cause: "SIGTERM" | "SIGINT" | "parent exited") => void,
  options: OnShutdownOptions = {},
): () => void {
  let called = false;
  const once = (cause: "SIGTERM" | "SIGINT" | "parent exited") => {
    if (called) return;
    called = true;
    stop(cause);
  };
  const onTerm = () => once("SIGTERM");
  const onInt = () => once("SIGINT");
  Deno.addSignalListener("SIGTERM", onTerm);
  Deno.addSignalListener("SIGINT", onInt);

  if (options.exitWithParent) {
    (async () => {
      try {
        for await (const _ of Deno.stdin.readable) {
          // Input is ignored; only its end matters.
        }
      } catch {
        // A broken pipe means the same as end of file here.
      }
      once("parent exited");
    })();
  }

  return () => {
    Deno.removeSignalListener("SIGTERM", onTerm);
    Deno.removeSignalListener("SIGINT", onInt);
  };
}

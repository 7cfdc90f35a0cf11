/**
 * Starts one of this project's servers as a child process and learns its port
 * from its "listening" log line, so children can bind port 0 and never race for
 * a port. Used by the local scaler (replicas) and the demo (everything).
 *
 * @module
 */

import { fileSink, followLines, listeningPort } from "./lines.ts";

/** Options of {@linkcode startService}. */
export interface StartServiceOptions {
  /** Short name for messages, e.g. `replica` or `dispatcher`. */
  name: string;
  /** Program to run. @default the running Deno executable */
  command?: string;
  /** Arguments, e.g. `["run", "--allow-all", "model/main.ts", "--port", "0"]`. */
  args: string[];
  /** File that receives the child's stdout and stderr; discarded when absent. */
  logFile?: string;
  /** Called with every stdout line (after it reached the log file). */
  onLine?: (line: string) => void;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** How long to wait for the "listening" line, in milliseconds. @default 60000 */
  startTimeoutMs?: number;
}

/** A running child server. */
export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Deno.CommandStatus>;
  /**
   * Asks the process to stop (SIGTERM) and waits; after `timeoutMs` it is killed.
   * Safe to call more than once.
   */
  stop(timeoutMs?: number): Promise<Deno.CommandStatus>;
}

/**
 * Starts a server process and resolves once it logged that it listens.
 * The child's stdin stays open as a lifeline: children started with
 * `--exit-with-parent` shut down when it closes, which happens even when this
 * process is killed outright.
 *
 * @throws {Error} when the process exits or stays silent before it listens;
 * the message carries the end of its output
 */
export async function startService(options: StartServiceOptions): Promise<ServiceProcess> {
  const { name, args, logFile, onLine, env, startTimeoutMs = 60_000 } = options;
  const command = new Deno.Command(options.command ?? Deno.execPath(), {
    args,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const child = command.spawn();
  const file = logFile
    ? await Deno.open(logFile, { write: true, create: true, append: true })
    : undefined;
  const sink = file ? fileSink(file) : undefined;
  const tail: string[] = [];
  const remember = (line: string) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
  };

  let resolvePort: (port: number) => void;
  const portSeen = new Promise<number>((resolve) => resolvePort = resolve);
  const stdoutDone = followLines(child.stdout, (line) => {
    remember(line);
    const port = listeningPort(line);
    if (port !== undefined) resolvePort(port);
    onLine?.(line);
  }, sink);
  const stderrDone = followLines(child.stderr, remember, sink);
  const exited = (async () => {
    const status = await child.status;
    await Promise.allSettled([stdoutDone, stderrDone]);
    file?.close();
    return status;
  })();

  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), startTimeoutMs);
  });
  const first = await Promise.race([portSeen, exited, timeout]);
  clearTimeout(timer);

  let stopping: Promise<Deno.CommandStatus> | undefined;
  const stop = (timeoutMs = 30_000) => {
    stopping ??= stopChild(child, exited, timeoutMs);
    return stopping;
  };
  if (typeof first !== "number") {
    await stop(5_000);
    const why = first === "timeout"
      ? `did not log "listening" within ${startTimeoutMs} ms`
      : `exited with code ${first.code} before it listened`;
    const where = logFile ? ` (full log: ${logFile})` : "";
    throw new Error(`Cannot start ${name}: it ${why}${where}; last output:\n${tail.join("\n")}`);
  }
  return { name, pid: child.pid, port: first, exited, stop };
}

async function stopChild(
  child: Deno.ChildProcess,
  exited: Promise<Deno.CommandStatus>,
  timeoutMs: number,
): Promise<Deno.CommandStatus> {
  try {
    child.kill("SIGTERM");
  } catch {
    // Already gone: nothing to signal.
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) =>
    timer = setTimeout(() => resolve("late"), timeoutMs)
  );
  const result = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (result === "late") {
    try {
      child.kill("SIGKILL");
    } catch {
      // It exited between the timeout and the kill.
    }
  }
  const status = await exited;
  await child.stdin.close().catch(() => {});
  return status;
}

/**
 * Runs model replicas as child processes of this one and publishes the ready
 * ones in the `file_sd` target file that Prometheus and the dispatcher read.
 *
 * Order matters for zero loss. Up: start, wait for `/readyz`, then publish.
 * Down: unpublish, give readers `deregistrationDelayMs` to notice, then SIGTERM;
 * the replica finishes what it holds and answers 503 to stragglers, which the
 * dispatcher retries elsewhere.
 *
 * A replica that exits on its own (a crash, the OOM killer, `kill -9`) is
 * unpublished and counted out of {@linkcode LocalScaler.current} the moment its
 * exit is seen, and a warning says how it ended. It is not restarted here: the
 * control loop sees the smaller fleet on its next tick and scales back up with
 * a logged reason, and its interval keeps a replica that dies at once (a bad
 * model, too little memory) from being restarted in a tight loop.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { Logger } from "@common/log.ts";
import { type ServiceProcess, startService } from "@common/service_process.ts";
import { REPLICA_ENV } from "@common/replica_env.ts";
import { writeTargets } from "@common/targets.ts";
import { waitForHttp } from "@common/wait_http.ts";
import type { Scaler } from "./scaler.ts";

/** How to start one replica process. */
export interface ReplicaCommand {
  /** Program to run. @default the running Deno executable */
  program?: string;
  /** Its arguments, before {@linkcode LocalScalerOptions.replicaArgs}. */
  args: string[];
}

/** Options of {@linkcode LocalScaler}. */
export interface LocalScalerOptions {
  /** The `file_sd` JSON file to maintain. */
  targetsFile: string;
  /** Extra arguments for every replica, e.g. `["--model", "models/x.onnx"]`. */
  replicaArgs?: string[];
  /**
   * What starts a replica; tests put a cheap stand-in here. The process must
   * log a JSON line `{"msg":"listening","port":N}`, answer `GET /readyz` with
   * 2xx once ready, and drain and exit 0 on SIGTERM.
   * @default `deno run --allow-all model/main.ts --port 0 --exit-with-parent`
   */
  replicaCommand?: ReplicaCommand;
  /** Folder for one log file per replica; logs are discarded when absent. */
  logDir?: string;
  /**
   * Extra environment variables for every replica, e.g. `{ LOG_LEVEL: "debug" }`;
   * replicas also inherit this process's environment and REPLICA_ENV.
   */
  env?: Record<string, string>;
  /** How long a new replica may take to become ready, in ms. @default 60000 */
  startTimeoutMs?: number;
  /** Pause between unpublishing a replica and stopping it, in ms. @default 1000 */
  deregistrationDelayMs?: number;
  /** How long a stopping replica may drain before it is killed, in ms. @default 30000 */
  drainTimeoutMs?: number;
  logger: Logger;
}

const MODEL_MAIN = fileURLToPath(new URL("../model/main.ts", import.meta.url));
const DEFAULT_COMMAND: ReplicaCommand = {
  args: ["run", "--allow-all", MODEL_MAIN, "--port", "0", "--exit-with-parent"],
};
/** Log lines quoted when a replica ends badly: enough for a stack trace's head. */
const TAIL_LINES = 10;
/** Bytes read from the end of a replica's log to find those lines. */
const TAIL_BYTES = 4_096;
/** Timers may fire a millisecond early, so a kill at the timeout can look just short of it. */
const TIMER_SLACK_MS = 5;

/** One replica process and what the scaler knows of it. */
interface Replica {
  id: number;
  process: ServiceProcess;
  logFile?: string;
  /**
   * Size of the log file before this process started: a replica number's log
   * is appended to when it is reused, and a tail must quote only this process.
   */
  logStart: number;
  /** Set once the process has exited, for whatever reason. */
  exit?: Deno.CommandStatus;
}

/** A {@linkcode Scaler} of local processes. */
export class LocalScaler implements Scaler {
  readonly kind = "local";
  #options: LocalScalerOptions;
  /** Published replicas, oldest first; a replica leaves it before it is stopped. */
  #ready: Replica[] = [];
  #log: Logger;
  #sequence = 0;
  /** Aborted by close(): replicas still starting give up and are stopped. */
  #closing = new AbortController();
  /** Work close() must wait for: scale operations and crash reports. */
  #pending = new Set<Promise<unknown>>();
  /** The last target file write; the next one waits for it. */
  #publishing: Promise<void> = Promise.resolve();

  constructor(options: LocalScalerOptions) {
    this.#options = options;
    this.#log = options.logger;
  }

  /** Publishes the empty list, so no reader sees replicas of an earlier run. */
  async init(): Promise<void> {
    await this.#publish();
  }

  /** Replicas that are published and have not exited. */
  current(): Promise<number> {
    return Promise.resolve(this.#ready.length);
  }

  /** Addresses of the ready replicas, as published. */
  targets(): string[] {
    return this.#ready.map((replica) => `127.0.0.1:${replica.process.port}`);
  }

  /**
   * Starts or stops replicas until `replicas` are ready.
   *
   * @throws {Error} after {@linkcode close}, or when close() interrupted a scale-up
   */
  scaleTo(replicas: number): Promise<void> {
    if (this.#closing.signal.aborted) {
      return Promise.reject(
        new Error(`Cannot scale to ${replicas} replicas: the local scaler is closed`),
      );
    }
    return this.#track(this.#scale(replicas));
  }

  /**
   * Stops every replica, including those a running scale-up is still starting.
   * One that has not yet logged "listening" can only be stopped once it does,
   * so this may wait up to `startTimeoutMs`.
   *
   * @throws {Error} when the target file cannot be rewritten; the replicas it
   * still lists keep running and end with this process (`--exit-with-parent`)
   */
  async close(): Promise<void> {
    this.#closing.abort();
    while (this.#pending.size > 0) await Promise.allSettled(this.#pending);
    await this.#shrink(this.#ready.length);
  }

  async #scale(replicas: number): Promise<void> {
    const missing = replicas - this.#ready.length;
    if (missing > 0) await this.#grow(missing);
    if (missing < 0) await this.#shrink(-missing);
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#pending.add(work);
    const forget = () => this.#pending.delete(work);
    work.then(forget, forget);
    return work;
  }

  async #grow(count: number): Promise<void> {
    const started = await Promise.allSettled(
      Array.from({ length: count }, () => this.#startReplica()),
    );
    const closing = this.#closing.signal.aborted;
    const fresh: Replica[] = [];
    for (const result of started) {
      if (result.status === "fulfilled") fresh.push(result.value);
      else if (!closing) this.#log.error("replica failed to start", { error: result.reason });
    }

    if (closing) {
      // Never published, so no reader sends to them: no deregistration pause.
      await Promise.all(fresh.map((replica) => replica.process.stop(5_000)));
      throw new Error(
        `Cannot finish scaling up: the local scaler was closed while ${count} ` +
          `replica(s) were starting; they were stopped`,
      );
    }
    for (const replica of fresh) this.#adopt(replica, false);
    await this.#publish();
  }

  async #startReplica(): Promise<Replica> {
    const { logDir, replicaArgs = [], startTimeoutMs = 60_000 } = this.#options;
    const command = this.#options.replicaCommand ?? DEFAULT_COMMAND;
    const id = ++this.#sequence;
    const logFile = logDir ? `${logDir}/replica-${id}.log` : undefined;
    const logStart = await fileSize(logFile);
    const child = await startService({
      name: `replica ${id}`,
      command: command.program,
      args: [...command.args, ...replicaArgs],
      logFile,
      startTimeoutMs,
      env: { ...REPLICA_ENV, ...this.#options.env },
    });
    const replica: Replica = { id, process: child, logFile, logStart };
    const exited = this.#watch(replica);
    this.#log.debug("replica listening", { replica: id, pid: child.pid, port: child.port });

    try {
      await waitForHttp(`http://127.0.0.1:${child.port}/readyz`, {
        timeoutMs: startTimeoutMs,
        signal: AbortSignal.any([this.#closing.signal, exited]),
      });
    } catch (error) {
      const early = replica.exit;
      await child.stop(5_000);
      if (this.#closing.signal.aborted) {
        throw new Error(`Cannot start replica ${id}: the local scaler is closing`);
      }
      if (!early) throw error;
      const tail = await logTail(logFile, logStart);
      throw new Error(
        `Cannot start replica ${id}: it exited with ${describeExit(early)} before ` +
          `/readyz answered` + (tail ? `; last log lines:\n${tail.join("\n")}` : ""),
      );
    }
    this.#log.info("replica ready", { replica: id, pid: child.pid, port: child.port });
    return replica;
  }

  /**
   * Notices the exit of `replica` and returns a signal aborted at that moment.
   * An exit while it is published is a crash; one while it starts is handled
   * by the start, and one after it left the list is the planned stop.
   */
  #watch(replica: Replica): AbortSignal {
    const exited = new AbortController();
    replica.process.exited.then((status) => {
      replica.exit = status;
      exited.abort();
      // Closes the stdin lifeline, which stays open after an exit nobody asked for;
      // the process is gone, so no signal can reach anything.
      replica.process.stop(0);
      const index = this.#ready.indexOf(replica);
      if (index < 0) return;
      this.#ready.splice(index, 1);
      this.#track(this.#reportCrash(replica, status, true));
    });
    return exited.signal;
  }

  /**
   * Lists a new replica, or takes back one that could not be unpublished,
   * unless it died meanwhile; `listed` says whether the target file names it.
   */
  #adopt(replica: Replica, listed: boolean): void {
    if (replica.exit) this.#track(this.#reportCrash(replica, replica.exit, listed));
    else this.#ready.push(replica);
  }

  /** Unpublishes a replica that exited by itself (if it was listed) and says how it ended. */
  async #reportCrash(
    replica: Replica,
    status: Deno.CommandStatus,
    listed: boolean,
  ): Promise<void> {
    let error: unknown;
    if (listed) {
      try {
        await this.#publish();
      } catch (cause) {
        error = cause;
      }
    }
    const fields = {
      replica: replica.id,
      pid: replica.process.pid,
      port: replica.process.port,
      code: status.code,
      signal: status.signal,
      replicas: this.#ready.length,
      log: replica.logFile,
      tail: await logTail(replica.logFile, replica.logStart),
    };
    if (error) {
      this.#log.error("replica exited unexpectedly", {
        ...fields,
        reason: "the target file still lists it and cannot be rewritten; fix the file's " +
          "folder, the next scale operation writes it again",
        error,
      });
      return;
    }
    this.#log.warn("replica exited unexpectedly", {
      ...fields,
      reason: `it ended with ${describeExit(status)}; it is counted out and unpublished, ` +
        "and the next control loop tick decides whether to replace it",
    });
  }

  async #shrink(count: number): Promise<void> {
    // Newest first: the oldest replicas have the warmest caches and connections.
    const leaving = this.#ready.splice(this.#ready.length - count, count);
    if (leaving.length === 0) return;
    try {
      await this.#publish();
    } catch (error) {
      // The file still lists them and readers still send to them: they stay
      // ours to stop, or nothing would ever stop them.
      for (const replica of leaving) this.#adopt(replica, true);
      throw error;
    }

    const { deregistrationDelayMs = 1_000, drainTimeoutMs = 30_000 } = this.#options;
    // Readers learn of the new file through inotify within milliseconds; the
    // pause only spares them a retry, correctness does not rest on it.
    await new Promise((resolve) => setTimeout(resolve, deregistrationDelayMs));
    await Promise.all(leaving.map((replica) => this.#stop(replica, drainTimeoutMs)));
  }

  /** Stops an unpublished replica and logs how it went: info only for a clean exit. */
  async #stop(replica: Replica, drainTimeoutMs: number): Promise<void> {
    const began = Date.now();
    const status = await replica.process.stop(drainTimeoutMs);
    const fields = {
      replica: replica.id,
      pid: replica.process.pid,
      port: replica.process.port,
      code: status.code,
      signal: status.signal,
    };
    if (status.success) {
      this.#log.info("replica stopped", fields);
      return;
    }

    const waited = Date.now() - began;
    const killed = status.signal === "SIGKILL" && waited + TIMER_SLACK_MS >= drainTimeoutMs;
    const reason = killed
      ? `it did not exit within the drain timeout of ${drainTimeoutMs} ms after SIGTERM, ` +
        "so it was killed with SIGKILL; requests it still held were cut off"
      : `it ended with ${describeExit(status)} instead of draining and exiting 0`;
    this.#log.warn("replica stopped", {
      ...fields,
      killed,
      waitedMs: waited,
      reason,
      log: replica.logFile,
      tail: await logTail(replica.logFile, replica.logStart),
    });
  }

  #publish(): Promise<void> {
    // writeTargets uses one temporary file per process, so two writes at once
    // could rename each other's file away: queue them. Each writes the list
    // as it stands when its turn comes, so the last write is always current.
    const write = this.#publishing.then(() =>
      writeTargets(this.#options.targetsFile, this.targets())
    );
    this.#publishing = write.catch(() => {});
    return write;
  }
}

/** `code 3` or `signal SIGKILL`, as a person would say how a process ended. */
function describeExit(status: Deno.CommandStatus): string {
  return status.signal ? `signal ${status.signal}` : `code ${status.code}`;
}

/** Size of the file at `path` in bytes; 0 when there is none (yet). */
async function fileSize(path: string | undefined): Promise<number> {
  if (!path) return 0;
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return 0;
  }
}

/**
 * The last lines that a replica's process wrote to its log file, i.e. after
 * byte `from`, or undefined without a file. Cheap: it reads only the file's
 * last few kilobytes.
 */
export async function logTail(
  path: string | undefined,
  from = 0,
): Promise<string[] | undefined> {
  if (!path) return undefined;
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(path);
    const { size } = await file.stat();
    // A file that shrank since was truncated by someone else: read it all.
    const origin = from <= size ? from : 0;
    const start = Math.max(origin, size - TAIL_BYTES);
    await file.seek(start, Deno.SeekMode.Start);
    const bytes = new Uint8Array(size - start);
    let filled = 0;
    while (filled < bytes.length) {
      const read = await file.read(bytes.subarray(filled));
      if (read === null) break;
      filled += read;
    }
    const lines = new TextDecoder().decode(bytes.subarray(0, filled)).split("\n");
    // The first line of a window that starts inside this process's output is likely cut.
    if (start > origin) lines.shift();
    return lines.filter((line) => line.trim() !== "").slice(-TAIL_LINES);
  } catch {
    // A missing or unreadable log only costs the quote, not the report.
    return undefined;
  } finally {
    file?.close();
  }
}

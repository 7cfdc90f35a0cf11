/**
 * Runs model replicas as child processes of this one and publishes the ready
 * ones in the `file_sd` target file that Prometheus and the dispatcher read.
 *
 * Order matters for zero loss. Up: start, wait for `/readyz`, then publish.
 * Down: unpublish, give readers `deregistrationDelayMs` to notice, then SIGTERM;
 * the replica finishes what it holds and answers 503 to stragglers, which the
 * dispatcher retries elsewhere.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { Logger } from "@common/log.ts";
import { type ServiceProcess, startService } from "@common/service_process.ts";
import { REPLICA_ENV } from "../model/replica_env.ts";
import { writeTargets } from "@common/targets.ts";
import { waitForHttp } from "@common/wait_http.ts";
import type { Scaler } from "./scaler.ts";

/** Options of {@linkcode LocalScaler}. */
export interface LocalScalerOptions {
  /** The `file_sd` JSON file to maintain. */
  targetsFile: string;
  /** Extra arguments for every replica, e.g. `["--model", "models/x.onnx"]`. */
  replicaArgs?: string[];
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

/** A {@linkcode Scaler} of local processes. */
export class LocalScaler implements Scaler {
  readonly kind = "local";
  #options: LocalScalerOptions;
  #ready: ServiceProcess[] = [];
  #log: Logger;
  #sequence = 0;

  constructor(options: LocalScalerOptions) {
    this.#options = options;
    this.#log = options.logger;
  }

  /** Publishes the empty list, so no reader sees replicas of an earlier run. */
  async init(): Promise<void> {
    await this.#publish();
  }

  current(): Promise<number> {
    return Promise.resolve(this.#ready.length);
  }

  /** Addresses of the ready replicas, as published. */
  targets(): string[] {
    return this.#ready.map((replica) => `127.0.0.1:${replica.port}`);
  }

  async scaleTo(replicas: number): Promise<void> {
    const missing = replicas - this.#ready.length;
    if (missing > 0) await this.#grow(missing);
    if (missing < 0) await this.#shrink(-missing);
  }

  async close(): Promise<void> {
    await this.#shrink(this.#ready.length);
  }

  async #grow(count: number): Promise<void> {
    const started = await Promise.allSettled(
      Array.from({ length: count }, () => this.#startReplica()),
    );
    for (const result of started) {
      if (result.status === "fulfilled") this.#ready.push(result.value);
      else this.#log.error("replica failed to start", { error: result.reason });
    }
    await this.#publish();
  }

  async #startReplica(): Promise<ServiceProcess> {
    const { logDir, replicaArgs = [], startTimeoutMs = 60_000 } = this.#options;
    const id = ++this.#sequence;
    const logFile = logDir ? `${logDir}/replica-${id}.log` : undefined;
    const args = [
      "run",
      "--allow-all",
      MODEL_MAIN,
      "--port",
      "0",
      "--exit-with-parent",
      ...replicaArgs,
    ];
    const replica = await startService({
      name: `replica ${id}`,
      args,
      logFile,
      startTimeoutMs,
      env: { ...REPLICA_ENV, ...this.#options.env },
    });
    try {
      await waitForHttp(`http://127.0.0.1:${replica.port}/readyz`, { timeoutMs: startTimeoutMs });
    } catch (error) {
      await replica.stop(5_000);
      throw error;
    }
    this.#log.info("replica ready", { replica: id, pid: replica.pid, port: replica.port });
    return replica;
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
      this.#ready.push(...leaving);
      throw error;
    }

    const { deregistrationDelayMs = 1_000, drainTimeoutMs = 30_000 } = this.#options;
    // Readers learn of the new file through inotify within milliseconds; the
    // pause only spares them a retry, correctness does not rest on it.
    await new Promise((resolve) => setTimeout(resolve, deregistrationDelayMs));
    await Promise.all(leaving.map(async (replica) => {
      const status = await replica.stop(drainTimeoutMs);
      this.#log.info("replica stopped", {
        pid: replica.pid,
        port: replica.port,
        code: status.code,
      });
    }));
  }

  async #publish(): Promise<void> {
    await writeTargets(this.#options.targetsFile, this.targets());
  }
}

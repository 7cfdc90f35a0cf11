/**
 * Keeps the replica pool equal to the `file_sd` target file. Writers replace
 * the file by renaming a temporary one over it, which gives it a new inode, so
 * watching the file itself would go deaf after the first change: the watch is
 * on its directory, and any event about the file (or a temporary sibling named
 * after it) triggers a fresh read. A slow poll backs up the watch on
 * filesystems that deliver no events.
 *
 * @module
 */

import { basename, dirname } from "node:path";
import type { Logger } from "@common/log.ts";
import { readTargets } from "@common/targets.ts";
import type { PoolChange, ReplicaPool } from "./replica_pool.ts";

/** What one read of the target file did to the pool. */
export type ReadOutcome = "changed" | "unchanged" | "missing" | "invalid";

/** Options of {@linkcode TargetWatcher}. */
export interface TargetWatcherOptions {
  /** The `file_sd` JSON file. */
  path: string;
  /** The pool to keep in step with the file. */
  pool: ReplicaPool;
  logger: Logger;
  /** Called after every read that changed the pool. */
  onChange?: (change: PoolChange) => void;
  /** Re-read the file this often even without events, in ms; 0 turns it off. @default 5000 */
  pollIntervalMs?: number;
}

/** Watches the target file's directory and re-reads the file on every event. */
export class TargetWatcher {
  #options: TargetWatcherOptions;
  #watcher?: Deno.FsWatcher;
  #loop?: Promise<void>;
  #poll?: ReturnType<typeof setInterval>;
  #reading?: Promise<void>;
  #dirty = false;
  #waiters: ((outcome: ReadOutcome) => void)[] = [];

  constructor(options: TargetWatcherOptions) {
    this.#options = options;
  }

  /**
   * Reads the file once, then starts watching. The directory is created when
   * missing, because a watch needs one and the writer may start later.
   */
  async start(): Promise<ReadOutcome> {
    const { path, pollIntervalMs = 5000 } = this.#options;
    const dir = dirname(path);
    await Deno.mkdir(dir, { recursive: true });
    this.#watcher = Deno.watchFs(dir, { recursive: false });
    const name = basename(path);
    const watcher = this.#watcher;
    this.#loop = (async () => {
      try {
        for await (const event of watcher) {
          const relevant = event.paths.some((changed) => {
            const base = basename(changed);
            return base === name || base.startsWith(`${name}.`);
          });
          if (relevant) this.#schedule();
        }
      } catch (error) {
        // E.g. the directory was deleted; the poll still notices a new file.
        this.#options.logger.warn("stopped watching the target directory", { dir, error });
      }
    })();
    if (pollIntervalMs > 0) this.#poll = setInterval(() => this.#schedule(), pollIntervalMs);
    const first = this.nextRead();
    this.#schedule();
    return await first;
  }

  /** Resolves with the outcome of the next read that completes, for tests and tools. */
  nextRead(): Promise<ReadOutcome> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Stops watching and waits for a read in progress. */
  async close(): Promise<void> {
    clearInterval(this.#poll);
    this.#watcher?.close();
    await this.#loop;
    await this.#reading;
  }

  // Reads never overlap: an event during a read marks the file dirty, and the
  // running read goes round once more, so the last write always gets read.
  #schedule(): void {
    if (this.#reading) {
      this.#dirty = true;
      return;
    }
    this.#reading = (async () => {
      do {
        this.#dirty = false;
        const outcome = await this.#readOnce();
        for (const resolve of this.#waiters.splice(0)) resolve(outcome);
      } while (this.#dirty);
      this.#reading = undefined;
    })();
  }

  async #readOnce(): Promise<ReadOutcome> {
    const { path, pool, logger } = this.#options;
    let targets: string[];
    let outcome: ReadOutcome = "changed";
    try {
      targets = await readTargets(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        logger.warn("cannot read the target file; keeping the previous replicas", {
          path,
          error,
          replicas: pool.size,
        });
        return "invalid";
      }
      targets = [];
      outcome = "missing";
    }

    const change = pool.update(targets);
    if (change.added.length === 0 && change.removed.length === 0) {
      return outcome === "missing" ? outcome : "unchanged";
    }
    logger.info("replicas changed", {
      added: change.added,
      removed: change.removed,
      replicas: pool.size,
      ...(outcome === "missing" ? { reason: "target file missing" } : {}),
    });
    this.#options.onChange?.(change);
    return outcome;
  }
}

/**
 * Keeps every version of a `file_sd` target file a test sees, each with the
 * file's modification time. The writer (common/targets.ts) writes a temporary
 * file and renames it over the target, so the mtime of a version is the moment
 * its content was written: at or before the rename, and so before anything the
 * writer does after publishing it. The kernel stamps files from a coarse clock
 * that lags the real one by a few ms at most, which only moves it earlier.
 *
 * @module
 */

import { basename, dirname } from "node:path";
import { readTargets } from "@common/targets.ts";

/** One content of the target file. */
export interface TargetVersion {
  /** Modification time of the file holding this content, ms since the epoch. */
  writtenAt: number;
  /** Its `host:port` targets, sorted. */
  targets: string[];
}

/** A running watch of the target file. */
export interface TargetVersions {
  /** Every distinct content seen, oldest first. */
  readonly versions: TargetVersion[];
  /**
   * The first version after `address` was listed that no longer lists it:
   * the version that unpublished it; undefined when none was seen.
   */
  unpublished(address: string): TargetVersion | undefined;
  /** Stops watching, after a last read so the final version is kept too. */
  close(): Promise<void>;
}

/** Starts watching `path`'s directory and reads the file on every event about it. */
export function watchTargetVersions(path: string): TargetVersions {
  const versions: TargetVersion[] = [];
  const name = basename(path);
  let reads = Promise.resolve();

  const read = async () => {
    let targets: string[];
    let writtenAt: number;
    try {
      // Stat first: a newer file replacing it between the two calls then
      // pairs the newer content with an older time, never the other way.
      writtenAt = (await Deno.stat(path)).mtime?.getTime() ?? NaN;
      targets = await readTargets(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    const last = versions.at(-1);
    if (last && last.targets.join() === targets.join()) return;
    versions.push({ writtenAt, targets });
  };
  // Reads run one after another, so versions stay in the order written.
  const schedule = () => reads = reads.then(read);

  const watcher = Deno.watchFs(dirname(path), { recursive: false });
  const loop = (async () => {
    for await (const event of watcher) {
      if (event.paths.some((changed) => basename(changed).startsWith(name))) schedule();
    }
  })();
  schedule();

  return {
    versions,
    unpublished(address) {
      const listed = versions.findIndex((version) => version.targets.includes(address));
      if (listed < 0) return undefined;
      return versions.slice(listed).find((version) => !version.targets.includes(address));
    },
    async close() {
      schedule();
      watcher.close();
      await loop;
      await reads;
    },
  };
}

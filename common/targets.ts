/**
 * The replica list in Prometheus `file_sd` format: the one truth on a single
 * machine of which replicas exist. The local scaler writes it, Prometheus and the
 * dispatcher read it.
 *
 * @module
 */

import { dirname } from "node:path";

/** One entry of a `file_sd` file. */
export interface TargetGroup {
  targets: string[];
  labels?: Record<string, string>;
}

/**
 * Writes the target list atomically: readers see the old file or the new one,
 * never half of one, because a rename within a directory is atomic.
 */
export async function writeTargets(path: string, targets: string[]): Promise<void> {
  const groups: TargetGroup[] = targets.length === 0 ? [] : [{ targets: [...targets].sort() }];
  const temp = `${path}.${Deno.pid}.tmp`;
  // A fresh checkout has no run/ folder yet.
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeTextFile(temp, JSON.stringify(groups, null, 2) + "\n");
  await Deno.rename(temp, path);
}

/**
 * Reads the targets of a `file_sd` file as `host:port` strings.
 *
 * @throws {Deno.errors.NotFound} when the file does not exist
 * @throws {SyntaxError} when the file is not a valid `file_sd` JSON list
 */
export async function readTargets(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(path);
  return parseTargets(text, path);
}

/** Parses the text of a `file_sd` JSON file; `source` names it in errors. */
export function parseTargets(text: string, source: string): string[] {
  let groups: unknown;
  try {
    groups = JSON.parse(text);
  } catch (cause) {
    throw new SyntaxError(`Cannot parse target file ${source}: not JSON`, { cause });
  }
  if (!Array.isArray(groups)) {
    throw new SyntaxError(`Cannot parse target file ${source}: expected a JSON list of groups`);
  }
  const targets = new Set<string>();
  for (const group of groups) {
    const list = (group as TargetGroup)?.targets;
    if (!Array.isArray(list) || list.some((t) => typeof t !== "string")) {
      throw new SyntaxError(
        `Cannot parse target file ${source}: each group needs "targets", a list of "host:port"`,
      );
    }
    for (const target of list) targets.add(target);
  }
  return [...targets].sort();
}

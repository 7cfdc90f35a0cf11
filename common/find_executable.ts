/**
 * Finds a program the way a shell would, so a missing one is reported with
 * an install hint before anything is started.
 *
 * @module
 */

import { join } from "node:path";

/** The path of `name` (a bare name is searched on PATH); undefined when absent. */
export function findExecutable(
  name: string,
  path = Deno.env.get("PATH") ?? "",
): string | undefined {
  const candidates = name.includes("/")
    ? [name]
    : path.split(":").filter((d) => d).map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return candidate;
    } catch {
      // Not in this folder.
    }
  }
  return undefined;
}

/**
 * The 1000 ImageNet class names, in the order of the model's outputs.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The label file shipped with the service. */
export const DEFAULT_LABELS = fileURLToPath(new URL("./imagenet_classes.tsv", import.meta.url));

/**
 * Parses the label file: one class per line, `index<TAB>wordnet id<TAB>name`,
 * indices 0 to n-1 in order.
 *
 * @throws {Error} naming the first line that breaks the format
 */
export function parseLabels(text: string): string[] {
  const labels: string[] = [];
  for (const [number, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    const [index, , name] = line.split("\t");
    if (Number(index) !== labels.length || name === undefined || name.trim() === "") {
      throw new Error(
        `Cannot read label line ${number + 1}: expected "${labels.length}<TAB>id<TAB>name", ` +
          `got "${line.slice(0, 60)}"`,
      );
    }
    labels.push(name.trim());
  }
  return labels;
}

/** Reads and parses a label file. */
export async function loadLabels(path = DEFAULT_LABELS): Promise<string[]> {
  return parseLabels(await Deno.readTextFile(path));
}

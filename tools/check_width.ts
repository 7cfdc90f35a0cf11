/**
 * Fails when a tracked source line is wider than 100 columns. `deno fmt` wraps
 * code but leaves comments and strings alone, so the limit needs its own check.
 *
 * @module
 */

const LIMIT = 100;
const SKIP = new Set([".git", "node_modules", "run", "models"]);
const EXTENSIONS = [".ts", ".md", ".yaml", ".yml", ".sh"];

async function* files(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    if (SKIP.has(entry.name)) continue;
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* files(path);
    else if (EXTENSIONS.some((ext) => entry.name.endsWith(ext)) || entry.name === "run") {
      yield path;
    }
  }
}

const problems: string[] = [];
for await (const path of files(Deno.args[0] ?? ".")) {
  const lines = (await Deno.readTextFile(path)).split("\n");
  lines.forEach((line, index) => {
    const width = [...line.replaceAll("\t", "    ")].length;
    // Markdown tables and URLs cannot be wrapped without breaking them.
    if (width > LIMIT && !(path.endsWith(".md") && /^\||https?:\/\//.test(line))) {
      problems.push(`${path}:${index + 1}: ${width} columns`);
    }
  });
}
if (problems.length > 0) {
  // deno-lint-ignore no-console
  console.error(`Lines wider than ${LIMIT} columns:\n${problems.join("\n")}`);
  Deno.exit(1);
}

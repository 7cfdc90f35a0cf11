/**
 * Reads `.dockerignore` the way the engine does, so a check can tell whether
 * a file reaches the build context: patterns apply in order, the last one
 * that matches a path or any folder above it wins, and `!` lets a path back in.
 *
 * @module
 */

/** One pattern: the glob and whether it lets paths back in. */
export interface IgnorePattern {
  glob: string;
  include: boolean;
}

/** Parses the file's text; blank lines and `#` comments are skipped. */
export function parseDockerignore(text: string): IgnorePattern[] {
  const patterns: IgnorePattern[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const include = line.startsWith("!");
    const glob = (include ? line.slice(1) : line).trim().replace(/^\/+/, "").replace(/\/+$/, "");
    if (glob !== "") patterns.push({ glob, include });
  }
  return patterns;
}

/**
 * Turns a pattern into a regular expression with the engine's rules: `*` and
 * `?` stay within one path segment and match dot files too (unlike shell
 * globs), `**` spans any number of segments, `[...]` is a character class.
 */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === "*" && glob[i + 1] === "*") {
      // "**/" may also match nothing; a final "**" matches the rest.
      const slash = glob[i + 2] === "/";
      source += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (char === "*") source += "[^/]*";
    else if (char === "?") source += "[^/]";
    else if (char === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) source += "\\[";
      else {
        source += "[" + glob.slice(i + 1, end) + "]";
        i = end;
      }
    } else source += char.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/** True when `path` (relative to the context, `/`-separated) is left out of the context. */
export function isIgnored(patterns: IgnorePattern[], path: string): boolean {
  const parts = path.replace(/^\.\//, "").replace(/\/+$/, "").split("/");
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  let ignored = false;
  for (const { glob, include } of patterns) {
    const regExp = globToRegExp(glob);
    if (candidates.some((candidate) => regExp.test(candidate))) ignored = !include;
  }
  return ignored;
}

/**
 * Text from a file quoted for an error message: a damaged or binary file must
 * not put control characters or kilobytes of noise on a person's terminal.
 *
 * @module
 */

/** How many characters of the text an error message shows by default. */
export const SHOWN_CHARS = 40;

/**
 * `text` in double quotes, cut to `max` characters (then `...` follows the
 * closing quote) with quotes, backslashes and non-printable characters
 * escaped, e.g. `"a\x00b"` for the three characters a, NUL, b.
 */
export function showText(text: string, max = SHOWN_CHARS): string {
  const chars = [...text];
  const cut = chars.length > max;
  const escaped = chars.slice(0, max).map(escapeChar).join("");
  return `"${escaped}"${cut ? "..." : ""}`;
}

function escapeChar(char: string): string {
  if (char === '"' || char === "\\") return `\\${char}`;
  if (char === "\t") return "\\t";
  const code = char.codePointAt(0)!;
  // C0 and C1 controls, DEL, and the replacement character an invalid byte decodes to.
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) {
    return `\\x${code.toString(16).padStart(2, "0")}`;
  }
  if (code === 0xfffd) return "\\ufffd";
  return char;
}

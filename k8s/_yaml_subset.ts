/**
 * A reader for the YAML that `kubectl kustomize` and our own files contain:
 * block mappings and sequences, plain and quoted scalars, literal block
 * scalars (`|`), flow sequences of plain scalars (`[a, b]`) and comments.
 * Anchors, tags, folded scalars and multi-line flow collections are refused
 * rather than misread. The project may not add a YAML package (no registry
 * for it here), and the tests need no more than this.
 *
 * @module
 */

/** A decoded YAML value. */
export type YamlValue = string | number | boolean | null | YamlValue[] | {
  [key: string]: YamlValue;
};

interface Line {
  indent: number;
  text: string;
  number: number;
}

/** Splits a multi-document stream on `---` lines and decodes each document. */
export function parseYamlDocuments(text: string): YamlValue[] {
  return text.split(/^---[ \t]*$/m)
    .filter((part) => part.split("\n").some((line) => isContent(line)))
    .map((part) => parseYaml(part));
}

/**
 * Decodes one YAML document.
 *
 * @throws {SyntaxError} naming the line of a construct outside the subset
 */
export function parseYaml(text: string): YamlValue {
  const lines = text.split("\n").map((raw, index) => ({
    indent: raw.length - raw.trimStart().length,
    text: raw.trimEnd(),
    number: index + 1,
  }));
  const reader = new Reader(lines);
  reader.skipBlank();
  if (reader.done) return null;
  const value = reader.node(reader.peek().indent);
  reader.skipBlank();
  if (!reader.done) reader.fail(reader.peek(), "unexpected content after the document");
  return value;
}

function isContent(raw: string): boolean {
  const trimmed = raw.trim();
  return trimmed !== "" && !trimmed.startsWith("#");
}

const KEY =
  /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s"'#\-?:,\[\]{}][^:]*?|-[^\s:][^:]*?)\s*:(?:\s+|$)/;

class Reader {
  #lines: Line[];
  #at = 0;

  constructor(lines: Line[]) {
    this.#lines = lines;
  }

  get done(): boolean {
    return this.#at >= this.#lines.length;
  }

  peek(): Line {
    return this.#lines[this.#at];
  }

  fail(line: Line, why: string): never {
    throw new SyntaxError(`Cannot read YAML line ${line.number} ("${line.text.trim()}"): ${why}`);
  }

  skipBlank(): void {
    while (!this.done && !isContent(this.peek().text)) this.#at++;
  }

  /** The mapping or sequence whose lines start at `indent`. */
  node(indent: number): YamlValue {
    const line = this.peek();
    const body = line.text.slice(indent);
    return body === "-" || body.startsWith("- ") ? this.sequence(indent) : this.mapping(indent);
  }

  sequence(indent: number): YamlValue[] {
    const items: YamlValue[] = [];
    for (this.skipBlank(); !this.done; this.skipBlank()) {
      const line = this.peek();
      const body = line.text.slice(indent);
      if (line.indent !== indent || !(body === "-" || body.startsWith("- "))) break;
      const rest = body.slice(1).trimStart();
      if (rest === "") {
        this.#at++;
        items.push(this.nested(indent));
      } else if (KEY.test(rest)) {
        // "- key: value" opens a mapping whose keys line up after the dash.
        const column = indent + body.length - rest.length;
        this.#lines[this.#at] = { ...line, indent: column, text: " ".repeat(column) + rest };
        items.push(this.mapping(column));
      } else {
        this.#at++;
        items.push(scalar(rest, line, this));
      }
    }
    return items;
  }

  mapping(indent: number): Record<string, YamlValue> {
    const map: Record<string, YamlValue> = {};
    for (this.skipBlank(); !this.done; this.skipBlank()) {
      const line = this.peek();
      if (line.indent !== indent) {
        if (line.indent > indent) this.fail(line, "indented more than its mapping");
        break;
      }
      const body = line.text.slice(indent);
      if (body === "-" || body.startsWith("- ")) break;
      const match = KEY.exec(body);
      if (!match) this.fail(line, "expected key: value");
      const key = String(scalar(match[1], line, this));
      if (key in map) this.fail(line, `duplicate key "${key}"`);
      const rest = body.slice(match[0].length);
      this.#at++;
      if (rest === "" || rest.startsWith("#")) map[key] = this.nested(indent, true);
      else if (/^\|[-+]?(\s+#.*)?$/.test(rest)) map[key] = this.literal(indent, rest[1]);
      else map[key] = scalar(rest, line, this);
    }
    return map;
  }

  /** The value under a key or dash that ended its line; a sequence may sit at the key's column. */
  nested(indent: number, sequenceMayAlign = false): YamlValue {
    this.skipBlank();
    if (this.done) return null;
    const line = this.peek();
    const body = line.text.slice(line.indent);
    const isItem = body === "-" || body.startsWith("- ");
    if (line.indent > indent || (sequenceMayAlign && line.indent === indent && isItem)) {
      return this.node(line.indent);
    }
    return null;
  }

  /** A `|` block: lines indented past `indent`, blank lines included. */
  literal(indent: number, chomp: string | undefined): string {
    const collected: string[] = [];
    let blockIndent: number | undefined;
    while (!this.done) {
      const line = this.peek();
      if (line.text.trim() === "") {
        collected.push("");
      } else {
        if (line.indent <= indent) break;
        blockIndent ??= line.indent;
        if (line.indent < blockIndent) this.fail(line, "less indented than its block");
        collected.push(line.text.slice(blockIndent));
      }
      this.#at++;
    }
    const text = collected.join("\n");
    if (chomp === "+") return text + "\n";
    const trimmed = text.replace(/\n+$/, "");
    return chomp === "-" || trimmed === "" ? trimmed : trimmed + "\n";
  }
}

function scalar(text: string, line: Line, reader: Reader): YamlValue {
  if (text.startsWith('"')) {
    const match = /^"((?:[^"\\]|\\.)*)"\s*(#.*)?$/.exec(text);
    if (!match) reader.fail(line, "unterminated double-quoted string");
    return JSON.parse(`"${match[1]}"`);
  }
  if (text.startsWith("'")) {
    const match = /^'((?:[^']|'')*)'\s*(#.*)?$/.exec(text);
    if (!match) reader.fail(line, "unterminated single-quoted string");
    return match[1].replaceAll("''", "'");
  }
  if (text.startsWith("[")) {
    const match = /^\[([^\[\]{}"']*)\]\s*(#.*)?$/.exec(text);
    if (!match) reader.fail(line, "only one-line flow sequences of plain scalars are read");
    const inner = match[1].trim();
    return inner === "" ? [] : inner.split(",").map((item) => plain(item.trim(), line, reader));
  }
  if (text === "{}") return {};
  return plain(text.replace(/\s+#.*$/, ""), line, reader);
}

function plain(text: string, line: Line, reader: Reader): YamlValue {
  if (/^[&*!>{|%@`]/.test(text)) reader.fail(line, `"${text[0]}" is outside the subset read here`);
  if (text === "" || text === "~" || text === "null") return null;
  if (text === "true" || text === "false") return text === "true";
  if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/.test(text)) return Number(text);
  return text;
}

/**
 * A small Dockerfile reader: enough of the format to check this project's
 * Dockerfiles without a container engine. It joins continued lines, drops
 * comments, splits arguments the way the shell form and the exec (JSON) form
 * do, and groups instructions into build stages. Heredocs, a changed escape
 * character and variable expansion are not supported; none is used here.
 *
 * @module
 */

/** Every instruction the Dockerfile reference defines; anything else is a typo. */
export const KEYWORDS = new Set([
  "ADD",
  "ARG",
  "CMD",
  "COPY",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "FROM",
  "HEALTHCHECK",
  "LABEL",
  "ONBUILD",
  "RUN",
  "SHELL",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
]);

/** One instruction, its continuation lines joined. */
export interface Instruction {
  /** Line number (from 1) where the instruction starts. */
  line: number;
  /** Upper-case keyword, e.g. `COPY`. */
  keyword: string;
  /** Leading `--name=value` options, e.g. `{ from: "build" }` for `COPY --from=build`. */
  options: Record<string, string>;
  /** The arguments after the options: exec-form items, or shell words with quotes removed. */
  args: string[];
  /** True when the arguments were written as a JSON array (exec form). */
  execForm: boolean;
  /** The text after the keyword, continuations joined with a space. */
  text: string;
}

/** A build stage: a FROM and the instructions up to the next FROM. */
export interface Stage {
  /** Position among the stages, from 0. */
  index: number;
  /** The `AS` name, lower-cased as Docker treats it; undefined when unnamed. */
  name?: string;
  /** The base: an image reference or the name of an earlier stage. */
  base: string;
  /** The FROM instruction's line. */
  line: number;
  /** The instructions after FROM. */
  instructions: Instruction[];
}

/**
 * Splits shell-form text into words: whitespace separates, single and double
 * quotes group and are removed, a backslash escapes the next character.
 */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === "\\" && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (char === "\\" && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (quote) throw new SyntaxError(`Cannot split words: unclosed ${quote} quote in "${text}"`);
  if (inWord) words.push(word);
  return words;
}

/**
 * Reads a Dockerfile into instructions.
 *
 * @throws {SyntaxError} naming the line of an unknown keyword, a bad exec form
 *   or a continuation that never ends
 */
export function parseDockerfile(text: string): Instruction[] {
  const lines = text.split(/\r?\n/);
  const instructions: Instruction[] = [];
  let index = 0;
  while (index < lines.length) {
    const start = index;
    const first = lines[index++];
    if (first.trim() === "" || first.trimStart().startsWith("#")) continue;

    // A trailing backslash continues the instruction; comment and blank lines inside it
    // are dropped, as Docker does.
    let joined = first;
    while (/\\\s*$/.test(joined)) {
      joined = joined.replace(/\\\s*$/, "").trimEnd();
      while (index < lines.length && /^\s*(#|$)/.test(lines[index])) index++;
      if (index >= lines.length) {
        throw new SyntaxError(`Line ${start + 1}: the instruction continues past the end`);
      }
      joined += " " + lines[index++].trim();
    }
    instructions.push(parseInstruction(joined.trim(), start + 1));
  }
  return instructions;
}

function parseInstruction(source: string, line: number): Instruction {
  const match = /^(\S+)\s*(.*)$/s.exec(source)!;
  const keyword = match[1].toUpperCase();
  if (!KEYWORDS.has(keyword)) {
    throw new SyntaxError(`Line ${line}: unknown instruction "${match[1]}"`);
  }
  let rest = match[2];
  const options: Record<string, string> = {};
  // Only these instructions take --options; RUN's are BuildKit mounts, kept in the text.
  if (["ADD", "COPY", "FROM"].includes(keyword)) {
    let option;
    while ((option = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest))) {
      options[option[1]] = option[2] ?? "true";
      rest = rest.slice(option[0].length);
    }
  }
  const text = rest.trim();
  const exec = execForm(text);
  if (exec) return { line, keyword, options, args: exec, execForm: true, text };
  // Docker would run a broken array through a shell, which is never what was meant.
  if (text.startsWith("[") && ["CMD", "ENTRYPOINT"].includes(keyword)) {
    throw new SyntaxError(`Line ${line}: ${keyword} looks like a JSON array but is not one`);
  }
  let args: string[];
  try {
    args = shellWords(text);
  } catch (error) {
    throw new SyntaxError(`Line ${line}: ${(error as Error).message}`);
  }
  return { line, keyword, options, args, execForm: false, text };
}

function execForm(text: string): string[] | undefined {
  if (!text.startsWith("[")) return undefined;
  try {
    const value = JSON.parse(text);
    if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value;
  } catch {
    // Not JSON: Docker then runs it as shell form, which the caller reports.
  }
  return undefined;
}

/**
 * Groups instructions into stages.
 *
 * @throws {SyntaxError} when an instruction other than ARG comes before the first FROM
 */
export function splitStages(instructions: Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      const [base, as, name] = instruction.args;
      if (base === undefined || (as !== undefined && (as.toLowerCase() !== "as" || !name))) {
        throw new SyntaxError(`Line ${instruction.line}: expected "FROM image [AS name]"`);
      }
      stages.push({
        index: stages.length,
        name: name?.toLowerCase(),
        base,
        line: instruction.line,
        instructions: [],
      });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push(instruction);
    } else if (instruction.keyword !== "ARG") {
      throw new SyntaxError(`Line ${instruction.line}: ${instruction.keyword} before any FROM`);
    }
  }
  return stages;
}

/**
 * The variables a stage's ENV instructions set, in both forms:
 * `ENV A=1 B=2` and the older `ENV A 1`.
 */
export function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { keyword, args } of stage.instructions) {
    if (keyword !== "ENV" || args.length === 0) continue;
    if (!args[0].includes("=")) {
      env[args[0]] = args.slice(1).join(" ");
      continue;
    }
    for (const pair of args) {
      const at = pair.indexOf("=");
      if (at > 0) env[pair.slice(0, at)] = pair.slice(at + 1);
    }
  }
  return env;
}

/**
 * Checks a Dockerfile of this project against the repository, without a
 * container engine: what the build would copy exists and reaches the build
 * context, what `deno compile` compiles is an entry point a deno.json task
 * runs and carries every file it loads at run time, the base images are
 * pinned, and the runtime stage runs as a numeric non-root user, exposes the
 * port the program listens on by default and starts a compiled binary.
 *
 * @module
 */

import { join, posix, relative } from "node:path";
import { type IgnorePattern, isIgnored, parseDockerignore } from "./dockerignore.ts";
import {
  type Instruction,
  parseDockerfile,
  shellWords,
  splitStages,
  type Stage,
  stageEnv,
} from "./dockerfile_parse.ts";

/** What a compiled entry point needs, found from its module graph. */
export interface EntryGraph {
  /** Local modules it imports, the entry included, relative to the repository root. */
  files: string[];
  /**
   * Files its code opens through `new URL("./x", import.meta.url)` (worker
   * modules, data files): `deno compile` embeds them only when `--include`d.
   */
  runtimeFiles: string[];
  /** Names of the npm packages it reaches, e.g. `onnxruntime-node`. */
  npmPackages: string[];
}

/** The repository as the checks see it; tests replace parts of it. */
export interface RepoFacts {
  /** deno.json tasks: name to command. */
  tasks: Record<string, string>;
  /** The .dockerignore patterns. */
  ignore: IgnorePattern[];
  /** Whether a path relative to the repository root exists. */
  exists(path: string): boolean;
  /** The module graph of an entry point (path relative to the root). */
  graph(entry: string): Promise<EntryGraph>;
}

/** What the runtime stage must agree with. */
export interface Expectations {
  /** The port the program listens on by default: the one to EXPOSE. */
  port: number;
  /** Variables the runtime stage must set, with their values. */
  env?: Record<string, string>;
  /** The Deno version the build stage's `denoland/deno` image must carry. */
  denoVersion: string;
}

/** One `deno compile` command found in a RUN instruction. */
export interface CompileCommand {
  /** Line of the RUN instruction. */
  line: number;
  /** The entry point, relative to the build stage's working directory. */
  entry: string;
  /** Where the binary is written. */
  output: string;
  /** `--include` values. */
  includes: string[];
  /** Permission flags, e.g. `--allow-net`, as given. */
  permissions: string[];
}

/** Native libraries a compiled binary cannot unpack beside its addon (see model/Dockerfile). */
const NATIVE_LIBRARIES: Record<string, string> = {
  "onnxruntime-node": "libonnxruntime.so.1",
  "sharp": "libvips-cpp.so",
};

const COMMAND_ENDS = new Set(["&&", "||", ";", "|"]);

/** The `deno compile` commands of a stage, in order. */
export function compileCommands(stage: Stage): CompileCommand[] {
  const commands: CompileCommand[] = [];
  for (const instruction of stage.instructions) {
    if (instruction.keyword !== "RUN") continue;
    const words = instruction.args;
    for (let i = 0; i + 1 < words.length; i++) {
      if (words[i] !== "deno" || words[i + 1] !== "compile") continue;
      const command: CompileCommand = {
        line: instruction.line,
        entry: "",
        output: "",
        includes: [],
        permissions: [],
      };
      const positionals: string[] = [];
      for (let j = i + 2; j < words.length && !COMMAND_ENDS.has(words[j]); j++) {
        const ends = words[j].endsWith(";");
        const word = ends ? words[j].slice(0, -1) : words[j];
        const [flag, inline] = word.split(/=(.*)/s, 2);
        const value = () => inline ?? words[++j]?.replace(/;$/, "") ?? "";
        if (flag === "--output" || flag === "-o") command.output = value();
        else if (flag === "--include") command.includes.push(value());
        else if (["--exclude", "--target", "--config", "-c"].includes(flag)) value();
        else if (/^--(allow|deny)-/.test(flag) || flag === "-A") command.permissions.push(word);
        else if (!word.startsWith("-") && !word.startsWith("$")) positionals.push(word);
        if (ends) break;
      }
      // Words after the entry point are the program's own arguments, baked in.
      command.entry = positionals[0] ?? "";
      commands.push(command);
    }
  }
  return commands;
}

/** The image reference's tag and digest, e.g. `debian:12.12-slim` gives tag `12.12-slim`. */
export function imageReference(reference: string): { name: string; tag?: string; digest?: string } {
  const [withoutDigest, digest] = reference.split("@", 2);
  const slash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  if (colon > slash) {
    return { name: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1), digest };
  }
  return { name: withoutDigest, digest };
}

/**
 * Why a base image reference is not pinned, or undefined when it is: a
 * digest pins it; otherwise the tag must name a version (digits and dots),
 * since `latest`, a missing tag or a codename like `bookworm-slim` move.
 */
export function unpinnedReason(reference: string): string | undefined {
  const { tag, digest } = imageReference(reference);
  if (digest) return /^sha256:[0-9a-f]{64}$/.test(digest) ? undefined : "its digest is malformed";
  if (tag === undefined) return "it has no tag, which means latest";
  if (tag === "latest") return "latest moves";
  if (!/\d+\.\d+/.test(tag)) return `the tag "${tag}" names no version`;
  return undefined;
}

/** Task entry files: `deno run ... FILE` in deno.json tasks, mapped to the task names. */
export function taskEntries(tasks: Record<string, string>): Map<string, string[]> {
  const entries = new Map<string, string[]>();
  for (const [name, command] of Object.entries(tasks)) {
    const words = shellWords(command);
    const run = words.findIndex((word, i) => word === "run" && words[i - 1] === "deno");
    if (run < 0) continue;
    const file = words.slice(run + 1).find((word) => !word.startsWith("-"));
    if (!file) continue;
    const key = posix.normalize(file);
    entries.set(key, [...(entries.get(key) ?? []), name]);
  }
  return entries;
}

/**
 * Checks one Dockerfile; returns one sentence per problem, each starting
 * with `path:line`. An empty list means the Dockerfile passed.
 */
export async function checkDockerfile(
  path: string,
  text: string,
  facts: RepoFacts,
  expect: Expectations,
): Promise<string[]> {
  const problems: string[] = [];
  const at = (line: number, message: string) => problems.push(`${path}:${line}: ${message}`);
  let stages: Stage[];
  try {
    stages = splitStages(parseDockerfile(text));
  } catch (error) {
    return [`${path}: cannot parse: ${(error as Error).message}`];
  }
  if (stages.length < 2) {
    at(1, "expected a build stage and a runtime stage (multi-stage), found " + stages.length);
    if (stages.length === 0) return problems;
  }
  const runtime = stages.at(-1)!;
  const entries = taskEntries(facts.tasks);

  checkBases(stages, expect, at);
  checkCopies(stages, facts, at);
  checkRuntimeStage(runtime, expect, at);

  const binaries: string[] = [];
  for (const stage of stages.slice(0, -1)) {
    for (const command of compileCommands(stage)) {
      const binary = await checkCompile(stage, command, runtime, facts, entries, at);
      if (binary) binaries.push(binary);
    }
  }
  if (stages.length > 1 && binaries.length === 0) {
    at(runtime.line, "the runtime stage receives no binary compiled by `deno compile`");
  }
  const entrypoint = runtime.instructions.findLast((i) => i.keyword === "ENTRYPOINT");
  if (entrypoint?.execForm && binaries.length > 0 && !binaries.includes(entrypoint.args[0])) {
    at(
      entrypoint.line,
      `ENTRYPOINT runs ${entrypoint.args[0]}, which is none of the compiled binaries ` +
        `(${binaries.join(", ")})`,
    );
  }
  return problems;
}

type Report = (line: number, message: string) => void;

function checkBases(stages: Stage[], expect: Expectations, at: Report): void {
  const names = new Set<string>();
  for (const stage of stages) {
    if (!names.has(stage.base.toLowerCase())) {
      const reason = unpinnedReason(stage.base);
      if (reason) at(stage.line, `base image ${stage.base} is not pinned: ${reason}`);
      const { name, tag } = imageReference(stage.base);
      if (name === "denoland/deno" && tag !== undefined && !tag.endsWith(expect.denoVersion)) {
        at(
          stage.line,
          `the build image must carry Deno ${expect.denoVersion}, the version this ` +
            `repository is developed and locked with, got ${stage.base}`,
        );
      }
    }
    if (stage.name) names.add(stage.name);
  }
}

function checkCopies(stages: Stage[], facts: RepoFacts, at: Report): void {
  for (const stage of stages) {
    for (const instruction of stage.instructions) {
      if (instruction.keyword !== "COPY" && instruction.keyword !== "ADD") continue;
      const sources = instruction.args.slice(0, -1);
      if (sources.length === 0) {
        at(instruction.line, `${instruction.keyword} needs a source and a destination`);
        continue;
      }
      const from = instruction.options.from;
      if (from === undefined) {
        for (const source of sources) checkContextPath(source, instruction, facts, at);
        continue;
      }
      const origin = stages.find((s) => s.name === from.toLowerCase() || String(s.index) === from);
      if (!origin || origin.index >= stage.index) {
        at(instruction.line, `COPY --from=${from} names no earlier stage`);
        continue;
      }
      const produced = origin.instructions.filter((i) => i.keyword !== "COPY")
        .map((i) => i.text).join("\n");
      for (const source of sources) {
        if (!produced.includes(source.replace(/\/+$/, ""))) {
          at(instruction.line, `nothing in stage "${from}" creates ${source}`);
        }
      }
    }
  }
}

function checkContextPath(source: string, instruction: Instruction, facts: RepoFacts, at: Report) {
  const path = posix.normalize(source).replace(/\/+$/, "");
  if (path.startsWith("..") || path.startsWith("/")) {
    at(instruction.line, `COPY source ${source} lies outside the build context`);
  } else if (!facts.exists(path)) {
    at(instruction.line, `COPY source ${source} does not exist in the repository`);
  } else if (isIgnored(facts.ignore, path)) {
    at(instruction.line, `COPY source ${source} is left out of the context by .dockerignore`);
  }
}

function checkRuntimeStage(runtime: Stage, expect: Expectations, at: Report): void {
  const last = (keyword: string) => runtime.instructions.findLast((i) => i.keyword === keyword);

  const user = last("USER");
  const [uid, gid] = (user?.args[0] ?? "").split(":");
  if (!user) at(runtime.line, "the runtime stage sets no USER, so it runs as root");
  else if (!/^\d+$/.test(uid) || (gid !== undefined && !/^\d+$/.test(gid))) {
    at(user.line, `USER must be numeric (runAsNonRoot can only verify a number), got ${uid}`);
  } else if (Number(uid) === 0) at(user.line, "USER 0 is root");

  const exposed = runtime.instructions.filter((i) => i.keyword === "EXPOSE")
    .flatMap((i) => i.args.map((port) => ({ line: i.line, port: port.replace(/\/tcp$/, "") })));
  if (!exposed.some(({ port }) => Number(port) === expect.port)) {
    at(runtime.line, `EXPOSE ${expect.port} is missing: it is the program's default port`);
  }
  for (const { line, port } of exposed) {
    if (Number(port) !== expect.port) {
      at(line, `EXPOSE ${port} differs from the program's default port ${expect.port}`);
    }
  }

  const entrypoint = last("ENTRYPOINT");
  if (!entrypoint) at(runtime.line, "the runtime stage has no ENTRYPOINT");
  else if (!entrypoint.execForm) {
    at(entrypoint.line, "ENTRYPOINT must be an exec-form array, or signals go to a shell");
  }

  const env = stageEnv(runtime);
  for (const [name, value] of Object.entries(expect.env ?? {})) {
    if (env[name] !== value) {
      at(runtime.line, `ENV ${name}=${value} is missing (found ${env[name] ?? "nothing"})`);
    }
  }
}

async function checkCompile(
  stage: Stage,
  command: CompileCommand,
  runtime: Stage,
  facts: RepoFacts,
  entries: Map<string, string[]>,
  at: Report,
): Promise<string | undefined> {
  const { line, entry, output, includes } = command;
  if (!entry || !output) {
    at(line, "deno compile needs an entry point and --output");
    return undefined;
  }
  if (!facts.exists(entry)) {
    at(line, `deno compile entry ${entry} does not exist`);
    return undefined;
  }
  if (!entries.has(posix.normalize(entry))) {
    at(line, `deno compile entry ${entry} is the file of no deno.json task`);
  }

  // Everything compiled must have been copied into the stage before this RUN, to the
  // same relative path, or the imports in deno.json would point elsewhere.
  const copies = stage.instructions
    .filter((i) => i.keyword === "COPY" && i.options.from === undefined && i.line < line);
  for (const copy of copies) {
    const [destination, ...sources] = copy.args.toReversed().map((p) => posix.normalize(p));
    for (const source of sources) {
      const mirrored = destination.replace(/\/+$/, "") === source.replace(/\/+$/, "") ||
        (destination === "./" && !source.includes("/"));
      if (!mirrored) {
        at(copy.line, `COPY ${source} ${destination} moves the file; keep the repository layout`);
      }
    }
  }
  const copied = copies
    .flatMap((i) => i.args.slice(0, -1).map((s) => posix.normalize(s).replace(/\/+$/, "")));
  const covered = (file: string) =>
    copied.some((source) => file === source || file.startsWith(source + "/"));
  for (const config of ["deno.json", "deno.lock"]) {
    if (!covered(config)) at(line, `${config} is not copied before deno compile`);
  }

  const graph = await facts.graph(entry);
  for (const file of [...graph.files, ...graph.runtimeFiles]) {
    if (!covered(file)) at(line, `${entry} needs ${file}, which no COPY before it brings in`);
    else if (isIgnored(facts.ignore, file)) {
      at(line, `${entry} needs ${file}, which .dockerignore leaves out`);
    }
  }
  const included = includes.map((include) => posix.normalize(include).replace(/\/+$/, ""));
  for (const include of included) {
    if (!facts.exists(include)) at(line, `--include ${include} does not exist`);
  }
  for (const file of graph.runtimeFiles) {
    if (!included.some((inc) => file === inc || file.startsWith(inc + "/"))) {
      at(line, `${entry} opens ${file} at run time; add --include ${file}`);
    }
  }

  const runText = stage.instructions.filter((i) => i.keyword === "RUN").map((i) => i.text)
    .join("\n");
  const runtimeEnv = stageEnv(runtime);
  const libraryPath = (runtimeEnv.LD_LIBRARY_PATH ?? "").split(":").filter((d) => d);
  for (const [name, library] of Object.entries(NATIVE_LIBRARIES)) {
    if (!graph.npmPackages.includes(name)) continue;
    if (!runText.includes(library)) {
      at(line, `${entry} loads ${name}, but the stage never copies out ${library}`);
    }
  }
  if (graph.npmPackages.some((name) => name in NATIVE_LIBRARIES)) {
    const destinations = copyDestinations(runtime);
    if (!libraryPath.some((dir) => destinations.includes(dir.replace(/\/+$/, "")))) {
      at(
        runtime.line,
        `${entry} loads native addons whose libraries must be on LD_LIBRARY_PATH ` +
          `(now "${libraryPath.join(":")}"), a folder the runtime stage copies them to`,
      );
    }
  }

  const binary = placedAt(output, stage, runtime);
  if (!binary) at(line, `${output} (from ${entry}) is not copied into the runtime stage`);
  return binary;
}

function copyDestinations(stage: Stage): string[] {
  return stage.instructions.filter((i) => i.keyword === "COPY")
    .map((i) => i.args.at(-1)!.replace(/\/+$/, ""));
}

/** Where `output` of `stage` lands in the runtime stage, if a COPY --from brings it. */
function placedAt(output: string, stage: Stage, runtime: Stage): string | undefined {
  for (const copy of runtime.instructions) {
    const from = copy.options.from?.toLowerCase();
    if (copy.keyword !== "COPY" || (from !== stage.name && from !== String(stage.index))) continue;
    const destination = copy.args.at(-1)!;
    for (const source of copy.args.slice(0, -1)) {
      const base = source.replace(/\/+$/, "");
      if (output === base) {
        return destination.endsWith("/")
          ? posix.join(destination, posix.basename(base))
          : destination;
      }
      if (output.startsWith(base + "/")) return posix.join(destination, output.slice(base.length));
    }
  }
  return undefined;
}

/** The repository at `root`, read from disk; module graphs come from `deno info`. */
export async function loadRepoFacts(root: string): Promise<RepoFacts> {
  const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  let ignoreText = "";
  try {
    ignoreText = await Deno.readTextFile(join(root, ".dockerignore"));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return {
    tasks: config.tasks ?? {},
    ignore: parseDockerignore(ignoreText),
    exists: (path) => {
      try {
        Deno.statSync(join(root, path));
        return true;
      } catch {
        return false;
      }
    },
    graph: (entry) => entryGraph(root, entry),
  };
}

// `new Worker(new URL("./w.ts", import.meta.url))`: a module loaded in process.
const WORKER_REFERENCE =
  /new Worker\(\s*new URL\(\s*["'](\.{1,2}\/[^"']+)["']\s*,\s*import\.meta\.url/g;
// `new URL("./data.tsv", import.meta.url)`: a file opened at run time. References to
// code outside a Worker call (a script started as a child process) do not count.
const URL_REFERENCE = /new URL\(\s*["'](\.{1,2}\/[^"']+)["']\s*,\s*import\.meta\.url\s*\)/g;

/**
 * The module graph of `entry` from `deno info --json`, plus the worker
 * modules and data files its modules open relative to themselves; a worker
 * brings its own graph. npm packages are those the modules reach, with their
 * dependencies.
 *
 * @throws {Error} when `deno info` fails, with its output
 */
export async function entryGraph(root: string, entry: string): Promise<EntryGraph> {
  const files = new Set<string>();
  const runtimeFiles = new Set<string>();
  const npmPackages = new Set<string>();
  const pending = [entry];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    const info = await denoInfo(root, next);
    const packages = info.npmPackages ?? {};
    const reached = (info.modules ?? []).flatMap((m) => m.npmPackage ? [m.npmPackage] : []);
    for (let key; (key = reached.pop()) !== undefined;) {
      const name = packages[key]?.name ?? key.replace(/@[^@]+$/, "");
      if (npmPackages.has(name)) continue;
      npmPackages.add(name);
      reached.push(...(packages[key]?.dependencies ?? []));
    }
    for (const module of info.modules ?? []) {
      if (typeof module.local !== "string" || !module.specifier?.startsWith("file:")) continue;
      const file = relative(root, module.local).split("\\").join("/");
      files.add(file);
      const source = await Deno.readTextFile(module.local);
      const resolve = (reference: string) =>
        posix.normalize(posix.join(posix.dirname(file), reference));
      for (const [, reference] of source.matchAll(WORKER_REFERENCE)) {
        runtimeFiles.add(resolve(reference));
        pending.push(resolve(reference));
      }
      for (const [, reference] of source.matchAll(URL_REFERENCE)) {
        // Code is handled above; paths outside the repository are optional
        // developer folders (common/shared_images.ts), never part of an image.
        const target = resolve(reference);
        if (!/\.[jt]sx?$/.test(target) && !target.startsWith("..")) runtimeFiles.add(target);
      }
    }
  }
  return {
    files: [...files].sort(),
    runtimeFiles: [...runtimeFiles].sort(),
    npmPackages: [...npmPackages].sort(),
  };
}

interface DenoInfo {
  modules?: { specifier?: string; local?: string; npmPackage?: string }[];
  npmPackages?: Record<string, { name?: string; dependencies?: string[] }>;
}

async function denoInfo(root: string, entry: string): Promise<DenoInfo> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim();
    throw new Error(`Cannot read the module graph of ${entry} with deno info: ${stderr}`);
  }
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

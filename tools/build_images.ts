/**
 * `deno task build-images`: builds the container image of every component
 * with docker, or with podman when that is what is installed. The engine's
 * own environment decides where images go, so after
 * `eval $(minikube docker-env)` they are built straight into minikube's
 * Docker, where the manifests in k8s/ find them without a registry.
 *
 * @module
 */

import { basename, join } from "node:path";
import { findExecutable } from "@common/find_executable.ts";
import { createLogger, type Logger } from "@common/log.ts";
import { ConfigError, parseFlags, settingsOrExit } from "@common/settings.ts";
import { writeLine } from "@common/write_line.ts";
import { DEFAULT_TAG, IMAGES, type ImageSpec, REPO_ROOT } from "./images.ts";

/** The engines tried, in order, when `--engine` is not given. */
export const ENGINES = ["docker", "podman"] as const;

/** What to do when no engine is installed. */
export const INSTALL_HINT = "Install Docker (https://docs.docker.com/engine/install/, or the " +
  "docker CLI alone to build into minikube after `eval $(minikube docker-env)`) or Podman " +
  "(`apt-get install podman`), or name another engine with --engine";

/** Usage text printed by `--help`. */
export const USAGE = `Usage: deno task build-images [flags]

Builds ${IMAGES.map((i) => `${i.name}:${DEFAULT_TAG}`).join(", ")}
from the repository root with docker, else podman. To build into minikube, run
\`eval $(minikube docker-env)\` first. The build needs internet access (deno compile
downloads its runtime base).

  --only NAMES     components to build, comma-separated or repeated:
                   ${IMAGES.map((i) => i.component).join(", ")} [all]
  --tag TAG        image tag [${DEFAULT_TAG}]
  --engine NAME    docker, podman or a path to either [the first one installed]
  --dry-run        print the commands instead of running them
  --help           show this text`;

/** Validated settings. */
export interface BuildOptions {
  images: ImageSpec[];
  tag: string;
  /** The engine asked for; undefined means "the first of ENGINES installed". */
  engine?: string;
  dryRun: boolean;
}

/** One build: the image and the command that builds it. */
export interface BuildStep {
  image: ImageSpec;
  /** `name:tag`. */
  reference: string;
  /** Program and arguments, e.g. `["docker", "build", ...]`. */
  command: string[];
}

// Docker's rule for a tag: 128 characters at most, no leading dot or dash.
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Parses the command line.
 *
 * @throws {ConfigError} listing every invalid flag
 */
export function parseBuildArgs(args: string[]): BuildOptions {
  const values = parseFlags("build-images", args, {
    only: { type: "string", multiple: true },
    tag: { type: "string" },
    engine: { type: "string" },
    "dry-run": { type: "boolean", default: false },
  });
  const problems: string[] = [];

  const names = (values.only ?? []).flatMap((value) => value.split(","))
    .map((name) => name.trim()).filter((name) => name !== "");
  const unknown = names.filter((name) => !IMAGES.some((i) => i.component === name));
  if (unknown.length > 0) {
    problems.push(
      `--only must name components among ${IMAGES.map((i) => i.component).join(", ")}, ` +
        `got "${unknown.join(", ")}"`,
    );
  }
  if (values.only !== undefined && names.length === 0) problems.push("--only names nothing");
  const images = names.length === 0
    ? [...IMAGES]
    : IMAGES.filter((i) => names.includes(i.component));

  const tag = values.tag ?? DEFAULT_TAG;
  if (!TAG.test(tag)) {
    problems.push(
      `--tag must be 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-", ` +
        `got "${tag}"`,
    );
  }
  if (values.engine !== undefined && values.engine.trim() === "") {
    problems.push("--engine must not be empty");
  }

  if (problems.length > 0) throw new ConfigError("build-images", problems);
  return { images, tag, engine: values.engine, dryRun: values["dry-run"] ?? false };
}

/**
 * The engine to run: the one asked for, else the first of {@linkcode ENGINES}
 * found on `path`. Undefined when none is there.
 */
export function findEngine(requested: string | undefined, path?: string): string | undefined {
  if (requested !== undefined) return findExecutable(requested, path);
  for (const engine of ENGINES) {
    const found = findExecutable(engine, path);
    if (found) return found;
  }
  return undefined;
}

/**
 * The build commands, one per image, with the repository root as the
 * context. docker and podman take the same arguments.
 */
export function planBuilds(options: BuildOptions, engine: string, root: string): BuildStep[] {
  return options.images.map((image) => {
    const reference = `${image.name}:${options.tag}`;
    return {
      image,
      reference,
      command: [engine, "build", "--file", join(root, image.dockerfile), "--tag", reference, root],
    };
  });
}

/** A command as one line a POSIX shell reads back into the same words. */
export function shellLine(command: string[]): string {
  return command.map((word) =>
    /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'"'"'`)}'`
  ).join(" ");
}

/** Runs a program with the terminal attached, so the engine shows its own progress. */
export type Runner = (command: string[]) => Promise<number>;

async function runAttached(command: string[]): Promise<number> {
  const [program, ...args] = command;
  const status = await new Deno.Command(program, {
    args,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return status.code;
}

async function engineAnswers(engine: string): Promise<{ ok: boolean; output: string }> {
  const result = await new Deno.Command(engine, {
    args: ["version"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(result.stderr).trim();
  return { ok: result.success, output: text.split("\n").slice(-3).join(" ") };
}

/**
 * Builds the planned images one after the other; stops at the first
 * failure. Returns the exit code for the process: 0 when all were built.
 */
export async function buildAll(
  steps: BuildStep[],
  logger: Logger,
  run: Runner = runAttached,
  now: () => number = Date.now,
): Promise<number> {
  const started = now();
  for (const [index, step] of steps.entries()) {
    const fields = { image: step.reference, dockerfile: step.image.dockerfile };
    logger.info(`building ${index + 1}/${steps.length}`, fields);
    const stepStart = now();
    const code = await run(step.command);
    if (code !== 0) {
      logger.error("build failed; images after it were not built", {
        ...fields,
        exit_code: code,
        hint: `fix the error above, then run again: ${shellLine(step.command)}`,
      });
      return 1;
    }
    logger.info("built", { ...fields, seconds: Math.round((now() - stepStart) / 100) / 10 });
  }
  logger.info("all images built", {
    images: steps.map((s) => s.reference),
    seconds: Math.round((now() - started) / 100) / 10,
  });
  return 0;
}

if (import.meta.main) {
  const options = settingsOrExit(Deno.args, USAGE, () => parseBuildArgs(Deno.args));
  const logger = createLogger({ component: "build-images" });
  const engine = findEngine(options.engine);

  if (options.dryRun) {
    // The commands name the engine as a user types it, so they can be pasted.
    const shown = options.engine ?? (engine ? basename(engine) : ENGINES[0]);
    for (const step of planBuilds(options, shown, REPO_ROOT)) {
      writeLine(Deno.stdout, shellLine(step.command));
    }
    Deno.exit(0);
  }

  if (!engine) {
    logger.error(
      options.engine === undefined
        ? `no container engine found on PATH (looked for ${ENGINES.join(", ")})`
        : `the engine "${options.engine}" is not an executable on PATH`,
      { hint: INSTALL_HINT },
    );
    Deno.exit(1);
  }
  const answer = await engineAnswers(engine);
  if (!answer.ok) {
    logger.error(`${basename(engine)} is installed but does not answer`, {
      engine,
      docker_host: Deno.env.get("DOCKER_HOST"),
      output: answer.output,
      hint: "start the Docker daemon (or Podman's machine), or point the CLI at minikube " +
        "with `eval $(minikube docker-env)`",
    });
    Deno.exit(1);
  }
  Deno.exit(await buildAll(planBuilds(options, engine, REPO_ROOT), logger));
}

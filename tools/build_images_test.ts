import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "@common/log.ts";
import { ConfigError } from "@common/settings.ts";
import {
  buildAll,
  findEngine,
  INSTALL_HINT,
  parseBuildArgs,
  planBuilds,
  shellLine,
} from "./build_images.ts";
import { IMAGES, REPO_ROOT } from "./images.ts";

const SCRIPT = join(REPO_ROOT, "tools", "build_images.ts");

/** A folder holding fake engines: shell scripts that log their arguments. */
async function fakeEngines(names: string[], options: { down?: boolean } = {}) {
  const dir = await Deno.makeTempDir({ prefix: "build-images-test-" });
  const log = join(dir, "calls.log");
  for (const name of names) {
    const path = join(dir, name);
    // A daemon that is down: the client answers `version` with an error, as docker does.
    const down = `if [ "$1" = version ]; then\n` +
      `  echo "Cannot connect to the Docker daemon" >&2; exit 1\nfi\n`;
    await Deno.writeTextFile(
      path,
      `#!/bin/sh\necho "${name} $*" >> "${log}"\n${options.down ? down : ""}exit 0\n`,
    );
    await Deno.chmod(path, 0o755);
  }
  const calls = async () => {
    try {
      return (await Deno.readTextFile(log)).trim().split("\n");
    } catch {
      return [];
    }
  };
  return { dir, calls, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

/** Runs the tool as `deno task build-images` would, with only `path` on PATH. */
async function runTool(args: string[], path: string) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", SCRIPT, ...args],
    env: { PATH: path },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

Deno.test("parseBuildArgs() defaults to every image, tag local, engine found later", () => {
  assert.deepEqual(parseBuildArgs([]), {
    images: [...IMAGES],
    tag: "local",
    engine: undefined,
    dryRun: false,
  });
});

Deno.test("parseBuildArgs() takes --only repeated or comma-separated", () => {
  const options = parseBuildArgs(["--only", "autoscaler,model", "--only", "model", "--dry-run"]);
  // Build order stays the table's, whatever the order of the flags.
  assert.deepEqual(options.images.map((i) => i.component), ["model", "autoscaler"]);
  assert.equal(options.dryRun, true);
});

Deno.test("parseBuildArgs() reports every invalid flag at once", () => {
  assert.throws(
    () => parseBuildArgs(["--only", "modle", "--tag=-x", "--engine", " "]),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems, [
        '--only must name components among model, dispatcher, autoscaler, got "modle"',
        '--tag must be 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-", ' +
        'got "-x"',
        "--engine must not be empty",
      ]);
      return true;
    },
  );
  assert.throws(() => parseBuildArgs(["--push"]), ConfigError);
});

Deno.test("planBuilds() builds each Dockerfile from the repository root", () => {
  const steps = planBuilds(parseBuildArgs(["--tag", "v2"]), "podman", "/repo");
  assert.deepEqual(
    steps.map((s) => s.command),
    IMAGES.map((image) => [
      "podman",
      "build",
      "--file",
      `/repo/${image.dockerfile}`,
      "--tag",
      `${image.name}:v2`,
      "/repo",
    ]),
  );
  for (const image of IMAGES) {
    assert.ok(existsSync(join(REPO_ROOT, image.dockerfile)), `${image.dockerfile} exists`);
  }
});

Deno.test("shellLine() quotes only what a shell would split or expand", async () => {
  const words = ["docker", "build", "--tag", "a:b", "/path with space/it's", "$HOME", ""];
  const line = shellLine(words);
  assert.equal(line, `docker build --tag a:b '/path with space/it'"'"'s' '$HOME' ''`);
  const echoed = await new Deno.Command("/bin/sh", {
    args: ["-c", `for w in ${line}; do printf '<%s>' "$w"; done`],
    env: { PATH: "/usr/bin:/bin" },
  }).output();
  assert.equal(new TextDecoder().decode(echoed.stdout), words.map((w) => `<${w}>`).join(""));
});

Deno.test("findEngine() prefers docker, falls back to podman, honours --engine", async (t) => {
  await t.step("both installed: docker", async () => {
    await using fake = await fakeEngines(["docker", "podman"]);
    assert.equal(findEngine(undefined, fake.dir), join(fake.dir, "docker"));
    assert.equal(findEngine("podman", fake.dir), join(fake.dir, "podman"));
  });
  await t.step("only podman: podman", async () => {
    await using fake = await fakeEngines(["podman"]);
    assert.equal(findEngine(undefined, fake.dir), join(fake.dir, "podman"));
    assert.equal(findEngine("docker", fake.dir), undefined);
  });
  await t.step("neither: nothing", async () => {
    await using fake = await fakeEngines([]);
    assert.equal(findEngine(undefined, fake.dir), undefined);
  });
});

Deno.test("buildAll() runs the steps in order and stops at the first failure", async () => {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    component: "test",
    write: (line) => lines.push(JSON.parse(line)),
    now: () => 0,
  });
  const steps = planBuilds(parseBuildArgs([]), "docker", "/repo");
  const ran: string[] = [];
  const code = await buildAll(steps, logger, (command) => {
    ran.push(command[5]);
    return Promise.resolve(command[5] === "resnet-dispatcher:local" ? 3 : 0);
  });
  assert.equal(code, 1);
  assert.deepEqual(ran, ["resnet-model:local", "resnet-dispatcher:local"]);
  assert.deepEqual(lines.map((l) => [l.msg, l.image]), [
    ["building 1/3", "resnet-model:local"],
    ["built", "resnet-model:local"],
    ["building 2/3", "resnet-dispatcher:local"],
    ["build failed; images after it were not built", "resnet-dispatcher:local"],
  ]);
  assert.equal(lines[3].exit_code, 3);
  assert.match(String(lines[3].hint), /run again: docker build --file \/repo\/dispatcher\//);
});

Deno.test("build-images --dry-run prints the commands and runs nothing", async () => {
  await using fake = await fakeEngines(["podman"]);
  const { code, stdout } = await runTool(["--dry-run", "--only", "dispatcher"], fake.dir);
  assert.equal(code, 0);
  assert.equal(
    stdout,
    `podman build --file ${REPO_ROOT}/dispatcher/Dockerfile --tag resnet-dispatcher:local ` +
      `${REPO_ROOT}\n`,
  );
  assert.deepEqual(await fake.calls(), []);
});

Deno.test("build-images without an engine on PATH fails with the install hint", async () => {
  await using empty = await fakeEngines([]);
  const { code, stdout } = await runTool([], empty.dir);
  assert.equal(code, 1);
  const line = JSON.parse(stdout.trim().split("\n").at(-1)!);
  assert.equal(line.msg, "no container engine found on PATH (looked for docker, podman)");
  assert.equal(line.hint, INSTALL_HINT);
});

Deno.test("build-images stops when the engine is installed but does not answer", async () => {
  await using fake = await fakeEngines(["docker"], { down: true });
  const { code, stdout } = await runTool([], fake.dir);
  assert.equal(code, 1);
  const line = JSON.parse(stdout.trim().split("\n").at(-1)!);
  assert.equal(line.msg, "docker is installed but does not answer");
  assert.match(line.output, /Cannot connect to the Docker daemon/);
  assert.match(line.hint, /minikube docker-env/);
  assert.deepEqual(await fake.calls(), ["docker version"]);
});

Deno.test("build-images builds every image with the engine it finds", async () => {
  await using fake = await fakeEngines(["podman"]);
  const { code, stdout } = await runTool(["--tag", "t1"], fake.dir);
  assert.equal(code, 0, stdout);
  assert.deepEqual(await fake.calls(), [
    "podman version",
    ...IMAGES.map((image) =>
      `podman build --file ${REPO_ROOT}/${image.dockerfile} --tag ${image.name}:t1 ${REPO_ROOT}`
    ),
  ]);
  assert.match(stdout, /"msg":"all images built"/);
});

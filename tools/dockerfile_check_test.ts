import assert from "node:assert/strict";
import { join } from "node:path";
import { DEFAULTS as AUTOSCALER_DEFAULTS } from "../autoscaler/config.ts";
import { DEFAULTS as DISPATCHER_DEFAULTS } from "../dispatcher/config.ts";
import { DEFAULTS as MODEL_DEFAULTS } from "../model/config.ts";
import { REPLICA_ENV } from "@common/replica_env.ts";
import {
  checkDockerfile,
  compileCommands,
  type Expectations,
  loadRepoFacts,
  taskEntries,
  unpinnedReason,
} from "./dockerfile_check.ts";
import { parseDockerfile, splitStages } from "./dockerfile_parse.ts";
import { parseDockerignore } from "./dockerignore.ts";
import { IMAGES, REPO_ROOT } from "./images.ts";

/** The Deno release this repository is developed with (../shared/facts.md). */
const DENO_VERSION = "2.9.6";

/** What each image must agree with, read from the programs themselves. */
const EXPECT: Record<string, Expectations> = {
  model: { port: Number(MODEL_DEFAULTS.port), env: { ...REPLICA_ENV }, denoVersion: DENO_VERSION },
  dispatcher: { port: Number(DISPATCHER_DEFAULTS.port), denoVersion: DENO_VERSION },
  autoscaler: { port: Number(AUTOSCALER_DEFAULTS.port), denoVersion: DENO_VERSION },
};

const facts = await loadRepoFacts(REPO_ROOT);
const readDockerfile = (path: string) => Deno.readTextFile(join(REPO_ROOT, path));

Deno.test("checkDockerfile() passes every Dockerfile of the repository", async (t) => {
  assert.deepEqual(IMAGES.map((image) => image.component), Object.keys(EXPECT));
  for (const image of IMAGES) {
    await t.step(image.dockerfile, async () => {
      const text = await readDockerfile(image.dockerfile);
      const problems = await checkDockerfile(
        image.dockerfile,
        text,
        facts,
        EXPECT[image.component],
      );
      assert.deepEqual(problems, []);
    });
  }
});

Deno.test("compileCommands() finds what each image compiles, all of it a task", async () => {
  const entries = taskEntries(facts.tasks);
  const compiled: string[] = [];
  for (const image of IMAGES) {
    const stages = splitStages(parseDockerfile(await readDockerfile(image.dockerfile)));
    for (const command of stages.flatMap(compileCommands)) {
      compiled.push(`${command.entry} -> ${command.output}`);
      assert.ok(entries.has(command.entry), `${command.entry} is run by a deno.json task`);
    }
  }
  assert.deepEqual(compiled, [
    "model/main.ts -> /out/bin/resnet-model",
    "model/fetch_main.ts -> /out/bin/resnet-model-fetch",
    "model/synthetic_main.ts -> /out/bin/resnet-model-synthetic",
    "dispatcher/main.ts -> /out/bin/resnet-dispatcher",
    "autoscaler/main.ts -> /out/bin/resnet-autoscaler",
  ]);
});

/** A change to model/Dockerfile and the problem the check must then report. */
interface Breakage {
  what: string;
  from: string | RegExp;
  to: string;
  problem: RegExp;
}

const BREAKAGES: Breakage[] = [
  {
    what: "a root user",
    from: "USER 10001:10001",
    to: "USER root",
    problem: /:\d+: USER must be numeric/,
  },
  { what: "uid 0", from: "USER 10001:10001", to: "USER 0", problem: /:\d+: USER 0 is root/ },
  { what: "no USER", from: "USER 10001:10001\n", to: "", problem: /sets no USER/ },
  {
    what: "another port",
    from: "EXPOSE 8000",
    to: "EXPOSE 8080",
    problem: /EXPOSE 8080 differs from the program's default port 8000/,
  },
  {
    what: "a moving base image",
    from: "FROM debian:12.12-slim",
    to: "FROM debian:bookworm-slim",
    problem: /base image debian:bookworm-slim is not pinned: the tag "bookworm-slim" names no/,
  },
  {
    what: "an untagged base image",
    from: "FROM debian:12.12-slim",
    to: "FROM debian",
    problem: /base image debian is not pinned: it has no tag/,
  },
  {
    what: "another Deno",
    from: "denoland/deno:2.9.6",
    to: "denoland/deno:2.1.4",
    problem: /must carry Deno 2\.9\.6/,
  },
  {
    what: "the worker left out of the binary",
    from: "--include model/inference_worker.ts ",
    to: "",
    problem: /opens model\/inference_worker\.ts at run time; add --include/,
  },
  {
    what: "the labels left out of the binary",
    from: " --include model/imagenet_classes.tsv",
    to: "",
    problem: /opens model\/imagenet_classes\.tsv at run time/,
  },
  {
    what: "a COPY source that does not exist",
    from: "COPY common/ common/",
    to: "COPY commons/ common/",
    problem: /COPY source commons\/ does not exist/,
  },
  {
    what: "sources copied to another path",
    from: "COPY model/ model/",
    to: "COPY model/ app/model/",
    problem: /COPY model\/ app\/model\/ moves the file; keep the repository layout/,
  },
  {
    what: "a module folder never copied",
    from: "COPY common/ common/\n",
    to: "",
    problem: /model\/main\.ts needs common\/log\.ts, which no COPY before it brings in/,
  },
  {
    what: "a stage that produced nothing of the kind",
    from: "COPY --from=build /out/lib/",
    to: "COPY --from=build /out/libs/",
    problem: /nothing in stage "build" creates \/out\/libs\//,
  },
  {
    what: "no library path",
    from: "ENV LD_LIBRARY_PATH=/usr/local/lib/resnet ",
    to: "ENV ",
    problem: /must be on LD_LIBRARY_PATH/,
  },
  {
    what: "the malloc setting dropped",
    from: " MALLOC_ARENA_MAX=2",
    to: "",
    problem: /ENV MALLOC_ARENA_MAX=2 is missing/,
  },
  {
    what: "an entry point no task runs",
    from: "--output /out/bin/resnet-model model/main.ts",
    to: "--output /out/bin/resnet-model model/server.ts",
    problem: /entry model\/server\.ts is the file of no deno\.json task/,
  },
  {
    what: "an entrypoint that is not compiled",
    from: 'ENTRYPOINT ["/usr/local/bin/resnet-model"]',
    to: 'ENTRYPOINT ["/usr/local/bin/resnet"]',
    problem: /ENTRYPOINT runs \/usr\/local\/bin\/resnet, which is none of the compiled/,
  },
  {
    what: "a shell-form entrypoint",
    from: 'ENTRYPOINT ["/usr/local/bin/resnet-model"]',
    to: "ENTRYPOINT /usr/local/bin/resnet-model",
    problem: /ENTRYPOINT must be an exec-form array/,
  },
  {
    what: "a single stage",
    from: /FROM debian:12\.12-slim[^]*$/,
    to: "",
    problem: /expected a build stage and a runtime stage/,
  },
  {
    what: "a typo in a keyword",
    from: "WORKDIR /src",
    to: "WORKDRI /src",
    problem: /cannot parse: Line \d+: unknown instruction "WORKDRI"/,
  },
];

Deno.test("checkDockerfile() reports each kind of broken model/Dockerfile", async (t) => {
  const original = await readDockerfile("model/Dockerfile");
  for (const { what, from, to, problem } of BREAKAGES) {
    await t.step(what, async () => {
      const broken = original.replace(from, to);
      assert.notEqual(broken, original, `the breakage "${what}" must change the file`);
      const problems = await checkDockerfile("model/Dockerfile", broken, facts, EXPECT.model);
      assert.ok(
        problems.some((p) => problem.test(p)),
        `expected ${problem} among:\n${problems.join("\n")}`,
      );
    });
  }
});

Deno.test("checkDockerfile() reports what .dockerignore leaves out", async () => {
  const text = await readDockerfile("model/Dockerfile");
  const ignoring = { ...facts, ignore: [...facts.ignore, ...parseDockerignore("model/labels.ts")] };
  const problems = await checkDockerfile("model/Dockerfile", text, ignoring, EXPECT.model);
  assert.ok(
    problems.some((p) => /needs model\/labels\.ts, which \.dockerignore leaves out/.test(p)),
    problems.join("\n"),
  );
});

Deno.test("unpinnedReason() accepts versions and digests only", () => {
  assert.equal(unpinnedReason("denoland/deno:2.9.6"), undefined);
  assert.equal(unpinnedReason("debian:12.12-slim"), undefined);
  assert.equal(unpinnedReason(`gcr.io/distroless/cc@sha256:${"a".repeat(64)}`), undefined);
  assert.equal(unpinnedReason("localhost:5000/app"), "it has no tag, which means latest");
  assert.equal(unpinnedReason("debian:latest"), "latest moves");
  assert.equal(unpinnedReason("app@sha256:abc"), "its digest is malformed");
});

Deno.test("the Dockerfiles share their dependency layers", async () => {
  // Identical instructions up to `deno install` let the engine build that layer
  // once and reuse it for the other two images.
  const prefixes: string[] = [];
  for (const image of IMAGES) {
    const instructions = parseDockerfile(await readDockerfile(image.dockerfile));
    const install = instructions.findIndex((i) => /^deno install\b/.test(i.text));
    assert.ok(install > 0, `${image.dockerfile} installs the locked packages first`);
    prefixes.push(
      instructions.slice(0, install + 1).map((i) => `${i.keyword} ${i.text}`).join("\n"),
    );
  }
  assert.equal(new Set(prefixes).size, 1, prefixes.join("\n---\n"));
});

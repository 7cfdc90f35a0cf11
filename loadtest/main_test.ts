import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { USAGE } from "./config.ts";
import { followLines } from "@common/lines.ts";
import { freePort } from "@common/free_port.ts";
import { loadImages } from "./images.ts";
import { readRunRecord } from "./run_record.ts";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const REPORT_MAIN = fileURLToPath(new URL("./report_main.ts", import.meta.url));
// `deno task load` runs from the workspace root, where the default "images" lives.
const ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * Runs the load tester as `deno task load` would, with a clean environment
 * so that a PROMETHEUS_URL or LOAD_URL of the machine cannot steer it.
 */
/**
 * The load tester as `deno task load` runs it, with a clean environment so
 * that a PROMETHEUS_URL or LOAD_URL of the machine cannot steer it.
 */
function command(args: string[], extraEnv: Record<string, string> = {}): Deno.Command {
  const env: Record<string, string> = { ...extraEnv };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, ...args],
    cwd: ROOT,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

async function runMain(args: string[], extraEnv: Record<string, string> = {}) {
  const output = await command(args, extraEnv).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

function startServer(status: number) {
  const contentTypes: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    contentTypes.push(request.headers.get("content-type") ?? "");
    await request.body?.cancel();
    return new Response("{}", { status });
  });
  return { url: `http://127.0.0.1:${server.addr.port}/classify`, contentTypes, server };
}

Deno.test("load main prints its usage for --help and exits 0", async () => {
  const { code, stdout } = await runMain(["--help"]);
  assert.equal(code, 0);
  assert.equal(stdout, USAGE + "\n");
});

Deno.test("load main exits 2 and lists every bad setting", async () => {
  const { code, stdout, stderr } = await runMain(["--rate", "x", "--timeout", "0", "--nope"]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.match(stderr, /unknown flag --nope/);
  assert.match(stderr, /--rate must be a number of requests per second .*, got "x"/);
  assert.match(stderr, /--timeout must be seconds above 0, at most 3600, got "0"/);
  assert.match(stderr, /Run with --help for the list of flags\./);
});

function jsonLogs(stderr: string) {
  return stderr.split("\n").filter((line) => line.startsWith("{")).map((l) => JSON.parse(l));
}

Deno.test("load main sends the shared ImageNet sample by default, and says so", async () => {
  const { url, contentTypes, server } = startServer(200);
  const shared = await Deno.makeTempDir({ prefix: "loadtest-main-shared-" });
  try {
    const sample = join(shared, "imagenet-sample");
    await Deno.mkdir(sample);
    for (const name of ["shapes-224x224.png", "gradient-circles-640x480.jpg"]) {
      await Deno.copyFile(join(ROOT, "images", name), join(sample, name));
    }
    const { code, stdout, stderr } = await runMain(
      ["--url", url, "--rate", "12", "--duration", "0.5", "--json"],
      { SHARED_IMAGES: shared },
    );
    assert.equal(code, 0, stderr);
    assert.equal(JSON.parse(stdout).ok, 6);
    // Name order: the JPEG comes first, then the PNG, and round again.
    assert.deepEqual(contentTypes, Array(3).fill(["image/jpeg", "image/png"]).flat());
    const starting = jsonLogs(stderr).find((record) => record.msg === "starting");
    assert.equal(starting?.imagesDir, sample);
    assert.equal(starting?.images, 2);
  } finally {
    await server.shutdown();
    await Deno.remove(shared, { recursive: true });
  }
});

Deno.test("load main warns once when --prometheus does not answer", async () => {
  const { url, server } = startServer(200);
  const prometheus = `http://127.0.0.1:${freePort()}`;
  try {
    const { code, stderr } = await runMain(
      ["--url", url, "--rate", "4", "--duration", "2.5", "--prometheus", prometheus, "--json"],
    );
    assert.equal(code, 0, stderr);
    const warnings = jsonLogs(stderr).filter((record) => record.msg.startsWith("replica count"));
    // Queried at the start and after each of the progress lines, but said once.
    assert.equal(warnings.length, 1, stderr);
    assert.equal(warnings[0].level, "warn");
    assert.equal(warnings[0].prometheus, prometheus);
    assert.match(warnings[0].hint, /check that Prometheus runs at that URL/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("load main sends the images of --images and prints a JSON summary", async () => {
  const { url, contentTypes, server } = startServer(200);
  try {
    const { code, stdout, stderr } = await runMain([
      "--images",
      "images",
      "--url",
      url,
      "--rate",
      "12",
      "--duration",
      "0.5",
      "--json",
    ]);
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(stdout);
    assert.equal(summary.offered, 6);
    assert.equal(summary.ok, 6);
    assert.deepEqual(summary.errors, {});
    // images/ under the working directory, sent in name order.
    const { images } = await loadImages(join(ROOT, "images"));
    assert.deepEqual(contentTypes, images.map((image) => image.contentType));
    const logs = stderr.split("\n").filter((line) => line.startsWith("{")).map((l) =>
      JSON.parse(l)
    );
    const skipped = logs.find((record) => record.msg.startsWith("not sending"));
    assert.deepEqual(skipped?.files.map((file: { name: string }) => file.name), ["README.md"]);
    assert.equal(logs.find((record) => record.msg === "starting")?.images, 6);
  } finally {
    await server.shutdown();
  }
});

Deno.test("load main exits 1 on failed requests with --fail-on-error", async () => {
  const { url, server } = startServer(503);
  try {
    const { code, stdout } = await runMain([
      "--url",
      url,
      "--rate",
      "10",
      "--duration",
      "0.2",
      "--fail-on-error",
    ]);
    assert.equal(code, 1);
    assert.match(stdout, /2 offered, 2 sent, 0 ok, 2 failed/);
    assert.match(stdout, /errors: 503 x2/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("load main exits 1 when no request succeeded, even without --fail-on-error", async () => {
  const { url, server } = startServer(503);
  try {
    const { code, stdout, stderr } = await runMain([
      "--url",
      url,
      "--rate",
      "10",
      "--duration",
      "0.2",
    ]);
    assert.equal(code, 1);
    assert.match(stdout, /2 offered, 2 sent, 0 ok, 2 failed/);
    assert.match(stderr, /"msg":"no request succeeded"/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("load main exits 0 when some requests failed and others succeeded", async () => {
  let count = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    await request.body?.cancel();
    return new Response("{}", { status: count++ === 0 ? 503 : 200 });
  });
  try {
    const url = `http://127.0.0.1:${server.addr.port}/classify`;
    const { code, stdout, stderr } = await runMain([
      "--url",
      url,
      "--rate",
      "10",
      "--duration",
      "0.2",
    ]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /2 offered, 2 sent, 1 ok, 1 failed/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("load main writes run.json and a report that report_main can redo", async () => {
  const { url, server } = startServer(200);
  const dir = await Deno.makeTempDir({ prefix: "loadtest-main-" });
  try {
    const out = join(dir, "run.json");
    const report = join(dir, "run.html");
    const { code, stderr } = await runMain([
      "--url",
      url,
      "--profile",
      "ramp:from=0,to=20",
      "--duration",
      "1",
      "--out",
      out,
      "--report",
      report,
    ]);
    assert.equal(code, 0, stderr);
    const run = await readRunRecord(out);
    assert.deepEqual(run.settings.profile, { kind: "ramp", from: 0, to: 20, seconds: 1 });
    // Half of 20/s over 1 s.
    assert.equal(run.summary.offered, 10);
    assert.equal(run.timeline.reduce((sum, point) => sum + point.offered, 0), 10);
    assert.ok((await Deno.readTextFile(report)).includes('id="report-data"'));

    const again = join(dir, "again.html");
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", REPORT_MAIN, out, out, "--out", again],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    const page = await Deno.readTextFile(again);
    // Two runs from files of the same name are labelled apart.
    assert.match(page, /<tr data-run="run">/);
    assert.match(page, /<tr data-run="run-2">/);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("load main refuses an output folder that does not exist, before sending", async () => {
  const { url, contentTypes, server } = startServer(200);
  try {
    const { code, stderr } = await runMain(["--url", url, "--out", "/nonexistent-l1/run.json"]);
    assert.equal(code, 2);
    assert.match(stderr, /cannot write there: the folder does not exist/);
    assert.equal(contentTypes.length, 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("load main refuses --out and --report naming one file, before sending", async (t) => {
  const { url, contentTypes, server } = startServer(200);
  const dir = await Deno.makeTempDir({ prefix: "loadtest-main-same-" });
  try {
    const cases: [string, string, string][] = [
      ["the same name", join(dir, "x.json"), join(dir, "x.json")],
      ["another spelling", join(dir, "y.json"), `${dir}/./y.json`],
      ["a hard link", join(dir, "a.json"), join(dir, "hard.json")],
    ];
    await Deno.writeTextFile(join(dir, "a.json"), "keep");
    await Deno.link(join(dir, "a.json"), join(dir, "hard.json"));
    for (const [name, out, report] of cases) {
      await t.step(name, async () => {
        const { code, stderr } = await runMain(["--url", url, "--out", out, "--report", report]);
        assert.equal(code, 2, stderr);
        assert.match(stderr, /--out and --report name the same file/);
        assert.equal(contentTypes.length, 0);
      });
    }
    assert.equal(await Deno.readTextFile(join(dir, "a.json")), "keep");
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Starts the load tester against a loopback server whose answers wait for
 * `release`, and resolves `firstRequest` when the first image comes in.
 */
function spawnAgainstHeldServer(answerAtOnce: boolean) {
  const firstRequest = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    firstRequest.resolve();
    await request.body?.cancel();
    if (!answerAtOnce) await release.promise;
    return new Response("{}");
  });
  const url = `http://127.0.0.1:${server.addr.port}/classify`;
  const child = command(["--url", url, "--rate", "10", "--duration", "60"]).spawn();
  const stdout: string[] = [];
  const stderr: string[] = [];
  const stopping = Promise.withResolvers<void>();
  const reading = Promise.all([
    followLines(child.stdout, (line) => stdout.push(line)),
    followLines(child.stderr, (line) => {
      stderr.push(line);
      if (line.includes("stopping early")) stopping.resolve();
    }),
  ]);
  // A safety net: a child that ignores its signals fails the test, not hangs it.
  const guard = setTimeout(() => child.kill("SIGKILL"), 20_000);
  return {
    child,
    firstRequest: firstRequest.promise,
    stopping: stopping.promise,
    stdout,
    stderr,
    async close() {
      await child.status;
      clearTimeout(guard);
      await reading;
      release.resolve();
      await server.shutdown();
    },
  };
}

Deno.test("load main stops arrivals on SIGINT and prints its summary", async () => {
  const run = spawnAgainstHeldServer(true);
  try {
    await run.firstRequest;
    run.child.kill("SIGINT");
    const status = await run.child.status;
    assert.equal(status.code, 0, run.stderr.join("\n"));
    assert.match(run.stdout.join("\n"), /\(stopped early; profile was 60 s\)/);
  } finally {
    await run.close();
  }
});

Deno.test("load main quits at once on a second SIGINT while draining", async () => {
  const run = spawnAgainstHeldServer(false);
  try {
    await run.firstRequest;
    run.child.kill("SIGINT");
    await run.stopping;
    const started = performance.now();
    run.child.kill("SIGINT");
    const status = await run.child.status;
    assert.equal(status.signal, "SIGINT");
    assert.ok(performance.now() - started < 5000);
  } finally {
    await run.close();
  }
});

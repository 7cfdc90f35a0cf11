import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sampleRecord } from "./_sample_run.ts";

const REPORT_MAIN = fileURLToPath(new URL("./report_main.ts", import.meta.url));

async function runReport(args: string[], cwd: string) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", REPORT_MAIN, ...args],
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, stderr: decoder.decode(output.stderr) };
}

/** A temporary folder holding the sample run as run.json. */
async function withRun(work: (dir: string, text: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "loadtest-report-main-" });
  try {
    const text = JSON.stringify(sampleRecord(), null, 2);
    await Deno.writeTextFile(join(dir, "run.json"), text);
    await work(dir, text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("report main writes a page for a valid run", async () => {
  await withRun(async (dir) => {
    const { code, stderr } = await runReport(["run.json", "--out", "run.html"], dir);
    assert.equal(code, 0, stderr);
    assert.match(await Deno.readTextFile(join(dir, "run.html")), /id="report-data"/);
  });
});

Deno.test("report main refuses an --out that is one of its inputs", async (t) => {
  await t.step("the same name", async () => {
    await withRun(async (dir, text) => {
      const { code, stderr } = await runReport(["run.json", "--out", "run.json"], dir);
      assert.equal(code, 2);
      assert.match(stderr, /refusing to overwrite an input/);
      assert.equal(await Deno.readTextFile(join(dir, "run.json")), text);
    });
  });
  await t.step("another spelling of the same file, among several inputs", async () => {
    await withRun(async (dir, text) => {
      await Deno.copyFile(join(dir, "run.json"), join(dir, "other.json"));
      await Deno.symlink(join(dir, "run.json"), join(dir, "link.json"));
      const { code, stderr } = await runReport(
        ["other.json", "run.json", "--out", `${dir}/./link.json`],
        dir,
      );
      assert.equal(code, 2);
      assert.match(stderr, /"input":"run.json"/);
      assert.equal(await Deno.readTextFile(join(dir, "run.json")), text);
    });
  });
  await t.step("a hard link to an input", async () => {
    await withRun(async (dir, text) => {
      await Deno.link(join(dir, "run.json"), join(dir, "hard.json"));
      const { code, stderr } = await runReport(["run.json", "--out", "hard.json"], dir);
      assert.equal(code, 2, stderr);
      assert.match(stderr, /refusing to overwrite an input/);
      assert.equal(await Deno.readTextFile(join(dir, "run.json")), text);
    });
  });
});

Deno.test("report main refuses an --out folder that does not exist, in one line", async () => {
  await withRun(async (dir) => {
    const { code, stderr } = await runReport(
      ["run.json", "--out", join(dir, "missing", "x.html")],
      dir,
    );
    assert.equal(code, 2);
    const lines = stderr.trim().split("\n");
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0], /cannot write there: the folder does not exist/);
  });
});

Deno.test("report main refuses a damaged run.json and writes nothing", async () => {
  await withRun(async (dir) => {
    const run = sampleRecord();
    run.summary.ok = 11;
    await Deno.writeTextFile(join(dir, "bad.json"), JSON.stringify(run));
    const { code, stderr } = await runReport(["bad.json", "--out", "bad.html"], dir);
    assert.equal(code, 2);
    assert.match(stderr, /summary\.ok: expected at most summary\.sent/);
    await assert.rejects(Deno.stat(join(dir, "bad.html")), Deno.errors.NotFound);
  });
});

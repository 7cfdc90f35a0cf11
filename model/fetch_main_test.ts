import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { freePort } from "@common/free_port.ts";
import { RESNET18_V1 } from "./known_models.ts";
import { sha256Hex } from "./sha256.ts";

const MAIN = fileURLToPath(new URL("./fetch_main.ts", import.meta.url));
const BODY = new Uint8Array(300_000).map((_, index) => (index * 13) % 256);
const BODY_SHA = sha256Hex(BODY);

interface Run {
  code: number;
  records: Record<string, unknown>[];
  stderr: string;
}

// Every run names a loopback --url: the real default address must never be tried in tests.
async function runFetch(args: string[]): Promise<Run> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, ...args],
    stdin: "null",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout).trim();
  return {
    code: output.code,
    records: stdout === "" ? [] : stdout.split("\n").map((line) => JSON.parse(line)),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

async function names(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) found.push(entry.name);
  return found.sort();
}

Deno.test("fetch_main", async (t) => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(BODY),
  );
  const url = `http://127.0.0.1:${server.addr.port}/model.onnx`;
  const dir = await Deno.makeTempDir();
  let serverOpen = true;

  try {
    await t.step("saves a verified file and logs its checksum", async () => {
      const run = await runFetch(["--url", url, "--sha256", BODY_SHA, "--out", `${dir}/a.onnx`]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(sha256Hex(await Deno.readFile(`${dir}/a.onnx`)), BODY_SHA);
      const saved = run.records.find((record) => record.msg === "saved verified model");
      assert.equal(saved?.sha256, BODY_SHA);
      assert.equal(saved?.bytes, BODY.length);
      assert.deepEqual(await names(dir), ["a.onnx"]);
    });

    await t.step("says what differed when the size is not the published one", async () => {
      // Without --sha256 the published ResNet18 size applies, which this body lacks.
      const run = await runFetch(["--url", url, "--out", `${dir}/b.onnx`]);
      assert.equal(run.code, 1);
      const failure = run.records.find((record) => record.level === "error");
      assert.equal(failure?.msg, "downloaded file has the wrong size; it was deleted");
      assert.equal(failure?.expected, String(RESNET18_V1.bytes));
      assert.equal(failure?.actual, String(BODY.length));
      assert.deepEqual(await names(dir), ["a.onnx"]);
    });

    await t.step("says what differed when the checksum is wrong", async () => {
      const wrong = "0".repeat(64);
      const run = await runFetch(["--url", url, "--sha256", wrong, "--out", `${dir}/c.onnx`]);
      assert.equal(run.code, 1);
      const failure = run.records.find((record) => record.level === "error");
      assert.equal(failure?.msg, "downloaded file has the wrong checksum; it was deleted");
      assert.equal(failure?.expected, wrong);
      assert.equal(failure?.actual, BODY_SHA);
      assert.deepEqual(await names(dir), ["a.onnx"]);
    });

    await server.shutdown();
    serverOpen = false;

    await t.step("keeps a verified file without touching the network", async () => {
      const run = await runFetch(["--url", url, "--sha256", BODY_SHA, "--out", `${dir}/a.onnx`]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(
        run.records.at(-1)?.msg,
        "model already present and verified; nothing to download",
      );
    });

    await t.step("suggests the synthetic model when the network fails", async () => {
      const refused = `http://127.0.0.1:${freePort()}/model.onnx`;
      const run = await runFetch(["--url", refused, "--out", `${dir}/d.onnx`, "--timeout", "5"]);
      assert.equal(run.code, 1);
      const failure = run.records.find((record) => record.level === "error");
      assert.equal(failure?.msg, "cannot download the model; this machine may be offline");
      assert.match(String(failure?.hint), /`deno task model:synthetic` builds offline weights/);
      assert.match(String(failure?.error), /refused/i);
      assert.deepEqual(await names(dir), ["a.onnx"]);
    });

    await t.step("exits 2 and names every bad flag", async () => {
      const run = await runFetch(["--url", "ftp://x", "--sha256", "abc", "--timeout", "0"]);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /--url must be an http or https URL, got "ftp:\/\/x"/);
      assert.match(run.stderr, /--sha256 must be 64 hex digits, got "abc"/);
      assert.match(run.stderr, /--timeout must be seconds above 0 and at most 3600, got "0"/);
      assert.match(run.stderr, /Usage: deno task model:fetch/);
      assert.deepEqual(run.records, []);

      const unknown = await runFetch(["--url", url, "--bogus"]);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /Unknown option '--bogus'/);
    });
  } finally {
    if (serverOpen) await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

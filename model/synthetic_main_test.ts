import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { readOnnxMetadata } from "./onnx_metadata.ts";
import { sha256Hex } from "./sha256.ts";
import { buildSyntheticResNet18, SYNTHETIC_MARK } from "./synthetic_model.ts";

const MAIN = fileURLToPath(new URL("./synthetic_main.ts", import.meta.url));

async function runSynthetic(args: string[], cwd?: string) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, ...args],
    cwd,
    stdin: "null",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout).trim();
  return {
    code: output.code,
    records: stdout === "" ? [] : stdout.split("\n").map((line) => JSON.parse(line)),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("synthetic_main writes the seeded model under models/ of its directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const run = await runSynthetic(["--seed", "7"], dir);
    assert.equal(run.code, 0, run.stderr);

    // Only the finished file remains: the temporary one was renamed into place.
    const entries = await Array.fromAsync(Deno.readDir(`${dir}/models`), (entry) => entry.name);
    assert.deepEqual(entries, ["resnet18-synthetic.onnx"]);
    const bytes = await Deno.readFile(`${dir}/models/resnet18-synthetic.onnx`);
    const sha256 = sha256Hex(bytes);
    assert.equal(sha256, sha256Hex(buildSyntheticResNet18({ seed: 7 }).bytes));
    assert.equal(readOnnxMetadata(bytes)[SYNTHETIC_MARK.key], SYNTHETIC_MARK.value);

    const percents = run.records.filter((r) => r.msg === "building").map((r) => r.percent);
    assert.ok(percents.length >= 5, `progress lines: ${percents}`);
    assert.deepEqual([...percents].sort((a, b) => a - b), percents);
    assert.equal(percents.at(-1), 100);

    const wrote = run.records.find((record) => record.msg === "wrote synthetic model");
    assert.equal(wrote?.path, await Deno.realPath(`${dir}/models/resnet18-synthetic.onnx`));
    assert.equal(wrote?.bytes, bytes.length);
    assert.equal(wrote?.sha256, sha256);
    assert.equal(wrote?.seed, 7);
    const warning = run.records.find((record) => record.level === "warn");
    assert.match(String(warning?.msg), /MEANINGLESS/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("synthetic_main exits 2 with usage on bad flags and writes nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (
      const [args, problem] of [
        [["--seed", "abc"], /--seed must be an integer from 0 to 4294967295, got "abc"/],
        [["--seed", "4294967296"], /--seed must be an integer from 0 to 4294967295/],
        [["--out", ""], /--out must not be empty/],
        [["--bogus"], /Unknown option '--bogus'/],
        [["extra"], /Unexpected argument 'extra'/],
      ] as const
    ) {
      const run = await runSynthetic([...args], dir);
      assert.equal(run.code, 2, `${args.join(" ")}: exit ${run.code}`);
      assert.match(run.stderr, problem);
      assert.match(run.stderr, /Usage: deno task model:synthetic/);
      assert.deepEqual(run.records, []);
    }
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

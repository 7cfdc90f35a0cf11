import assert from "node:assert/strict";
import { createTempBeside, TEMP_SUFFIX, writeFileAtomic } from "./atomic_file.ts";

async function names(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) found.push(entry.name);
  return found.sort();
}

Deno.test("writeFileAtomic() creates the directory and leaves only the target", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/nested/model.onnx`;
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    assert.deepEqual(await Deno.readFile(path), new Uint8Array([1, 2, 3]));
    assert.deepEqual(await names(`${dir}/nested`), ["model.onnx"]);

    await writeFileAtomic(path, new Uint8Array([9]));
    assert.deepEqual(await Deno.readFile(path), new Uint8Array([9]));
    assert.deepEqual(await names(`${dir}/nested`), ["model.onnx"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() removes its temporary file when the rename fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A non-empty directory cannot be replaced by a file.
    await Deno.mkdir(`${dir}/model.onnx`);
    await Deno.writeTextFile(`${dir}/model.onnx/keep`, "x");
    await assert.rejects(() => writeFileAtomic(`${dir}/model.onnx`, new Uint8Array([1])));
    assert.deepEqual(await names(dir), ["model.onnx"]);
    assert.deepEqual(await names(`${dir}/model.onnx`), ["keep"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createTempBeside() names the file after its target, with a normal mode", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const temp = await createTempBeside(`${dir}/model.onnx`);
    const name = temp.slice(dir.length + 1);
    assert.ok(name.startsWith(".model.onnx."), name);
    assert.ok(name.endsWith(TEMP_SUFFIX), name);
    const stat = await Deno.stat(temp);
    assert.equal(stat.size, 0);

    // A model must be as readable as any file created here, not private like a temp file.
    await Deno.writeFile(`${dir}/plain`, new Uint8Array());
    const plain = await Deno.stat(`${dir}/plain`);
    assert.equal((stat.mode ?? 0) & 0o777, (plain.mode ?? 0) & 0o777);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

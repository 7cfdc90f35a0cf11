import assert from "node:assert/strict";
import { parseTargets, readTargets, writeTargets } from "./targets.ts";

Deno.test("writeTargets() writes file_sd JSON that readTargets() reads back sorted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/model.json`;
    await writeTargets(path, ["127.0.0.1:8002", "127.0.0.1:8001"]);
    const groups = JSON.parse(await Deno.readTextFile(path));
    assert.deepEqual(groups, [{ targets: ["127.0.0.1:8001", "127.0.0.1:8002"] }]);
    assert.deepEqual(await readTargets(path), ["127.0.0.1:8001", "127.0.0.1:8002"]);
    await writeTargets(path, []);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), []);
    assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), ["model.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseTargets() merges groups and drops duplicates", () => {
  const text = JSON.stringify([
    { targets: ["b:1", "a:1"], labels: { zone: "x" } },
    { targets: ["a:1"] },
  ]);
  assert.deepEqual(parseTargets(text, "t.json"), ["a:1", "b:1"]);
});

Deno.test("parseTargets() names the file and the rule when the content is wrong", () => {
  assert.throws(() => parseTargets("{", "t.json"), {
    name: "SyntaxError",
    message: "Cannot parse target file t.json: not JSON",
  });
  assert.throws(() => parseTargets("{}", "t.json"), {
    name: "SyntaxError",
    message: "Cannot parse target file t.json: expected a JSON list of groups",
  });
  assert.throws(() => parseTargets('[{"targets": [1]}]', "t.json"), {
    name: "SyntaxError",
    message: 'Cannot parse target file t.json: each group needs "targets", a list of "host:port"',
  });
});

Deno.test("writeTargets creates the folder of a fresh checkout", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/run/targets/model.json`;
    await writeTargets(path, ["127.0.0.1:8001"]);
    assert.deepEqual(await readTargets(path), ["127.0.0.1:8001"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

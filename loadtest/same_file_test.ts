import assert from "node:assert/strict";
import { join } from "node:path";
import { sameFile, sameTarget } from "./same_file.ts";

Deno.test("sameFile() and sameTarget() tell one file from two", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "loadtest-same-file-" });
  try {
    const a = join(dir, "a.json");
    await Deno.writeTextFile(a, "{}");
    await Deno.writeTextFile(join(dir, "copy.json"), "{}");
    await Deno.link(a, join(dir, "hard.json"));
    await Deno.symlink(a, join(dir, "soft.json"));
    await t.step("a hard link is the same file", async () => {
      assert.equal(await sameFile(a, join(dir, "hard.json")), true);
    });
    await t.step("a symbolic link and another spelling are the same file", async () => {
      assert.equal(await sameFile(join(dir, "soft.json"), `${dir}/./a.json`), true);
    });
    await t.step("a copy is another file", async () => {
      assert.equal(await sameFile(a, join(dir, "copy.json")), false);
    });
    await t.step("a missing file is nothing", async () => {
      assert.equal(await sameFile(a, join(dir, "none.json")), false);
    });
    await t.step("two spellings of a file not written yet are one target", async () => {
      assert.equal(await sameTarget(join(dir, "x.json"), `${dir}/./x.json`), true);
      assert.equal(await sameTarget(join(dir, "x.json"), join(dir, "x.html")), false);
      assert.equal(await sameTarget(join(dir, "hard.json"), join(dir, "a.json")), true);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

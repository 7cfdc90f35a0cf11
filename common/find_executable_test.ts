import assert from "node:assert/strict";
import { findExecutable } from "./find_executable.ts";

Deno.test("findExecutable searches PATH and refuses what is missing or not executable", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/tool`, "#!/bin/sh\n", { mode: 0o755 });
    Deno.writeTextFileSync(`${dir}/data`, "x", { mode: 0o644 });
    assert.equal(findExecutable("tool", `/nonexistent:${dir}`), `${dir}/tool`);
    assert.equal(findExecutable("data", dir), undefined);
    assert.equal(findExecutable("absent", dir), undefined);
    assert.equal(findExecutable(`${dir}/tool`, ""), `${dir}/tool`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

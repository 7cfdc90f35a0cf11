import assert from "node:assert/strict";
import { writeTargets } from "@common/targets.ts";
import { ReplicaPool } from "./replica_pool.ts";
import { TargetWatcher } from "./target_watcher.ts";
import { memoryLogger, tempTargets, until } from "./_test_support.ts";

async function setup() {
  const { dir, path } = await tempTargets();
  const { logger, lines } = memoryLogger();
  const pool = new ReplicaPool();
  const changes: number[] = [];
  // No poll: these tests must pass on file events alone.
  const watcher = new TargetWatcher({
    path,
    pool,
    logger,
    pollIntervalMs: 0,
    onChange: () => changes.push(pool.size),
  });
  const cleanup = async () => {
    await watcher.close();
    await Deno.remove(dir, { recursive: true });
  };
  return { dir, path, pool, watcher, lines, changes, cleanup };
}

Deno.test("TargetWatcher picks up atomic rewrites of the target file", async () => {
  const { path, pool, watcher, lines, changes, cleanup } = await setup();
  try {
    await writeTargets(path, ["127.0.0.1:8001"]);
    assert.equal(await watcher.start(), "changed");
    assert.deepEqual(pool.addresses(), ["127.0.0.1:8001"]);

    await writeTargets(path, ["127.0.0.1:8001", "127.0.0.1:8002"]);
    await until(() => pool.size === 2, () => watcher.nextRead());
    assert.deepEqual(pool.addresses(), ["127.0.0.1:8001", "127.0.0.1:8002"]);

    await writeTargets(path, ["127.0.0.1:8002"]);
    await until(() => pool.size === 1, () => watcher.nextRead());
    assert.deepEqual(pool.addresses(), ["127.0.0.1:8002"]);

    assert.deepEqual(changes, [1, 2, 1]);
    const logged = lines.filter((line) => line.msg === "replicas changed");
    assert.deepEqual(logged.map(({ added, removed }) => ({ added, removed })), [
      { added: ["127.0.0.1:8001"], removed: [] },
      { added: ["127.0.0.1:8002"], removed: [] },
      { added: [], removed: ["127.0.0.1:8001"] },
    ]);
  } finally {
    await cleanup();
  }
});

Deno.test("TargetWatcher treats a missing file as zero replicas", async () => {
  const { path, pool, watcher, cleanup } = await setup();
  try {
    assert.equal(await watcher.start(), "missing");
    assert.equal(pool.size, 0);
    await writeTargets(path, ["127.0.0.1:8001"]);
    await until(() => pool.size === 1, () => watcher.nextRead());
    await Deno.remove(path);
    await until(() => pool.size === 0, () => watcher.nextRead());
  } finally {
    await cleanup();
  }
});

Deno.test("TargetWatcher keeps the previous list when the file is unparsable", async () => {
  const { path, pool, watcher, lines, cleanup } = await setup();
  try {
    await writeTargets(path, ["127.0.0.1:8001", "127.0.0.1:8002"]);
    await watcher.start();

    // Writing the temporary file raises events too, whose reads see no change.
    // The warning, not one read's outcome, is the signal: the invalid read may
    // finish before the wait below starts, and no later event would repeat it.
    await Deno.writeTextFile(`${path}.tmp`, '[{"targets": "not a list"}]');
    await Deno.rename(`${path}.tmp`, path);
    const warned = () => lines.some((line) => line.level === "warn");
    await until(warned, () => watcher.nextRead());
    assert.deepEqual(pool.addresses(), ["127.0.0.1:8001", "127.0.0.1:8002"]);
    const warning = lines.find((line) => line.level === "warn");
    assert.match(String((warning?.error as Error)?.message), /each group needs "targets"/);

    // A good file afterwards is taken again.
    await writeTargets(path, ["127.0.0.1:8003"]);
    await until(() => pool.size === 1, () => watcher.nextRead());
    assert.deepEqual(pool.addresses(), ["127.0.0.1:8003"]);
  } finally {
    await cleanup();
  }
});

Deno.test("TargetWatcher creates a missing directory so a later writer is seen", async () => {
  const { dir, cleanup } = await setup();
  const path = `${dir}/later/model.json`;
  const pool = new ReplicaPool();
  const watcher = new TargetWatcher({
    path,
    pool,
    logger: memoryLogger().logger,
    pollIntervalMs: 0,
  });
  try {
    assert.equal(await watcher.start(), "missing");
    await writeTargets(path, ["127.0.0.1:8001"]);
    await until(() => pool.size === 1, () => watcher.nextRead());
  } finally {
    await watcher.close();
    await cleanup();
  }
});

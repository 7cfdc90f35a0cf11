import assert from "node:assert/strict";
import { KubeConfig } from "@kubernetes/client-node";
import { createLogger } from "@common/log.ts";
import {
  type FakeEndpointSlice,
  FakeKubeApi,
  kubeconfigYaml,
} from "../autoscaler/fake_kube_api.ts";
import {
  EndpointSliceError,
  type EndpointSliceLike,
  EndpointSliceWatcher,
  type EndpointSliceWatcherOptions,
  readyAddresses,
} from "./endpoint_slice_watcher.ts";
import { ReplicaPool } from "./replica_pool.ts";

const NS = "resnet";
const SERVICE = "model";

function slice(
  name: string,
  ips: string[],
  options: Partial<FakeEndpointSlice> = {},
): FakeEndpointSlice {
  return {
    namespace: NS,
    name,
    service: SERVICE,
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true } })),
    ports: [{ name: "http", port: 8000, protocol: "TCP" }],
    ...options,
  };
}

/** Resolves when `check` holds, re-checked on every log line and pool change. */
class Signals {
  #waiters: { check: () => boolean; resolve: () => void }[] = [];

  notify(): void {
    for (const waiter of [...this.#waiters]) {
      if (!waiter.check()) continue;
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  // The limit only turns a hang into a readable failure; nothing waits for it.
  until(what: string, check: () => boolean, limitMs = 10_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((waiter) => waiter.check !== check);
        reject(new Error(`Timed out waiting for ${what}`));
      }, limitMs);
      this.#waiters.push({
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
}

async function setup(
  slices: FakeEndpointSlice[],
  options: Partial<EndpointSliceWatcherOptions> = {},
) {
  const fake = await FakeKubeApi.start({ endpointSlices: slices });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(fake.kubeconfig({ namespace: NS }));
  const signals = new Signals();
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    component: "test",
    level: "debug",
    write: (line) => {
      lines.push(JSON.parse(line));
      signals.notify();
    },
  });
  const pool = new ReplicaPool();
  const watcher = new EndpointSliceWatcher({
    kubeConfig,
    namespace: NS,
    service: SERVICE,
    pool,
    logger,
    onChange: () => signals.notify(),
    baseDelayMs: 10,
    maxDelayMs: 50,
    ...options,
  });
  // Checked after every pool change, so a test can wait for an exact set.
  const poolIs = (expected: string[]) =>
    signals.until(
      `pool = ${expected.join(", ")}`,
      () => JSON.stringify(pool.addresses()) === JSON.stringify(expected),
    );
  const logged = (msg: string) =>
    signals.until(`log "${msg}"`, () => lines.some((line) => line.msg === msg));
  const watchOpened = (count: number) => {
    // The fake resolves it; signals re-check once it has.
    fake.watchOpened(count).then(() => signals.notify());
    return signals.until(`watch number ${count}`, () => fake.watchesOpened >= count);
  };
  const lists = () =>
    fake.requests.filter((r) => r.path.endsWith("/endpointslices"))
      .filter((r) => !r.search.includes("watch=true")).length;
  return {
    fake,
    pool,
    watcher,
    lines,
    signals,
    poolIs,
    logged,
    lists,
    watchOpened,
    async [Symbol.asyncDispose]() {
      await watcher.stop();
      await fake.close();
    },
  };
}

Deno.test("readyAddresses() takes ready endpoints on the chosen port", async (t) => {
  const base: EndpointSliceLike = {
    metadata: { name: "a" },
    addressType: "IPv4",
    ports: [{ name: "http", port: 8000 }],
  };

  await t.step("leaves out not-ready and terminating endpoints", () => {
    const found = readyAddresses([{
      ...base,
      endpoints: [
        { addresses: ["10.0.0.1"], conditions: { ready: true } },
        { addresses: ["10.0.0.2"], conditions: { ready: false, serving: false } },
        { addresses: ["10.0.0.3"], conditions: { ready: false, serving: true, terminating: true } },
        // publishNotReadyAddresses marks even terminating pods ready.
        { addresses: ["10.0.0.4"], conditions: { ready: true, terminating: true } },
        // The API reads a missing condition as ready.
        { addresses: ["10.0.0.5"] },
      ],
    }]);
    assert.deepEqual(found, { addresses: ["10.0.0.1:8000", "10.0.0.5:8000"], skipped: [] });
  });

  await t.step("writes IPv6 addresses in brackets", () => {
    const found = readyAddresses([{
      ...base,
      addressType: "IPv6",
      endpoints: [{ addresses: ["fd00::7"], conditions: { ready: true } }],
    }]);
    assert.deepEqual(found.addresses, ["[fd00::7]:8000"]);
  });

  await t.step("merges slices and drops duplicates", () => {
    const endpoints = [{ addresses: ["10.0.0.1"] }];
    const found = readyAddresses([
      { ...base, endpoints },
      { ...base, metadata: { name: "b" }, endpoints: [...endpoints, { addresses: ["10.0.0.2"] }] },
    ]);
    assert.deepEqual(found.addresses, ["10.0.0.1:8000", "10.0.0.2:8000"]);
  });

  await t.step("picks the named port among several, and says why it cannot", () => {
    const several: EndpointSliceLike = {
      ...base,
      ports: [{ name: "metrics", port: 9100 }, { name: "http", port: 8000 }],
      endpoints: [{ addresses: ["10.0.0.1"] }],
    };
    assert.deepEqual(readyAddresses([several], "http").addresses, ["10.0.0.1:8000"]);
    const unnamed = readyAddresses([several]);
    assert.deepEqual(unnamed.addresses, []);
    assert.match(unnamed.skipped[0].reason, /2 ports \("metrics", "http"\); pass --port-name/);
    const wrong = readyAddresses([several], "grpc");
    assert.match(wrong.skipped[0].reason, /no port named "grpc".*fix --port-name/);
  });
});

Deno.test("EndpointSliceWatcher.start() fills the pool from the first list", async () => {
  await using env = await setup([
    slice("model-abc", ["10.0.0.1", "10.0.0.2"]),
    slice("model-def", ["10.0.0.3"]),
    slice("other-xyz", ["10.9.9.9"], { service: "other" }),
    { ...slice("model-ns", ["10.8.8.8"]), namespace: "elsewhere" },
  ]);
  const addresses = await env.watcher.start();
  const expected = ["10.0.0.1:8000", "10.0.0.2:8000", "10.0.0.3:8000"];
  assert.deepEqual(addresses, expected);
  assert.deepEqual(env.pool.addresses(), expected);
  const list = env.fake.requests.find((r) => r.path.endsWith("/endpointslices"))!;
  assert.equal(list.path, `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`);
  assert.equal(
    new URLSearchParams(list.search).get("labelSelector"),
    `kubernetes.io/service-name=${SERVICE}`,
  );
});

Deno.test("EndpointSliceWatcher follows added, changed and deleted slices", async (t) => {
  await using env = await setup([slice("model-abc", ["10.0.0.1"])]);
  await env.watcher.start();
  await env.watchOpened(1);

  await t.step("an added slice adds its endpoints", async () => {
    env.fake.putSlice(slice("model-def", ["10.0.0.2"]));
    await env.poolIs(["10.0.0.1:8000", "10.0.0.2:8000"]);
  });

  await t.step("an endpoint that turns not ready or terminating leaves", async () => {
    env.fake.putSlice(slice("model-abc", ["10.0.0.1", "10.0.0.4", "10.0.0.5"], {
      endpoints: [
        { addresses: ["10.0.0.1"], conditions: { ready: false, serving: true, terminating: true } },
        { addresses: ["10.0.0.4"], conditions: { ready: true, serving: true } },
        { addresses: ["10.0.0.5"], conditions: { ready: false, serving: false } },
      ],
    }));
    await env.poolIs(["10.0.0.2:8000", "10.0.0.4:8000"]);
  });

  await t.step("a deleted slice takes its endpoints away", async () => {
    env.fake.deleteSlice(NS, "model-def");
    await env.poolIs(["10.0.0.4:8000"]);
  });

  await t.step("a slice of another service changes nothing", async () => {
    env.fake.putSlice(slice("other-1", ["10.9.9.9"], { service: "other" }));
    env.fake.putSlice(slice("model-ghi", ["10.0.0.6"]));
    // Events arrive in order, so once model-ghi is in, other-1 would have been too.
    await env.poolIs(["10.0.0.4:8000", "10.0.0.6:8000"]);
  });

  const changes = env.lines.filter((line) => line.msg === "replicas changed");
  assert.deepEqual(changes.at(-1)?.added, ["10.0.0.6:8000"]);
});

Deno.test("EndpointSliceWatcher restarts a broken watch where it stopped", async (t) => {
  await using env = await setup([slice("model-abc", ["10.0.0.1"])]);
  await env.watcher.start();
  await env.watchOpened(1);
  env.fake.putSlice(slice("model-abc", ["10.0.0.1", "10.0.0.2"]));
  await env.poolIs(["10.0.0.1:8000", "10.0.0.2:8000"]);

  await t.step("a connection cut off mid-stream is retried and logged", async () => {
    env.fake.breakWatches();
    // Written while no watch is open: the resumed watch must replay it.
    env.fake.putSlice(slice("model-def", ["10.0.0.3"]));
    await env.watchOpened(2);
    await env.poolIs(["10.0.0.1:8000", "10.0.0.2:8000", "10.0.0.3:8000"]);
    await env.logged("EndpointSlice watch ended; restarting, keeping the last known replicas");
    const watches = env.fake.requests.filter((r) => r.search.includes("watch=true"));
    const resumedFrom = new URLSearchParams(watches[1].search).get("resourceVersion");
    assert.ok(Number(resumedFrom) > 0, `resumed from a version, got "${resumedFrom}"`);
    assert.equal(env.lists(), 1, "resuming needs no new list");
  });

  await t.step("a watch the server ends cleanly is resumed", async () => {
    env.fake.breakWatches({ clean: true });
    await env.watchOpened(3);
    env.fake.deleteSlice(NS, "model-abc");
    await env.poolIs(["10.0.0.3:8000"]);
  });
});

Deno.test("EndpointSliceWatcher lists again after 410 Gone", async () => {
  await using env = await setup([
    slice("model-abc", ["10.0.0.1"]),
    slice("model-def", ["10.0.0.2"]),
  ]);
  await env.watcher.start();
  await env.watchOpened(1);
  env.fake.breakWatches({ clean: true });
  // While disconnected: one slice goes, one comes, and the history is compacted away.
  env.fake.deleteSlice(NS, "model-abc");
  env.fake.putSlice(slice("model-ghi", ["10.0.0.7"]));
  env.fake.compact();

  await env.poolIs(["10.0.0.2:8000", "10.0.0.7:8000"]);
  await env.logged("watch position expired (410 Gone); listing again");
  assert.equal(env.lists(), 2);
  await env.watchOpened(3);
  env.fake.putSlice(slice("model-jkl", ["10.0.0.8"]));
  await env.poolIs(["10.0.0.2:8000", "10.0.0.7:8000", "10.0.0.8:8000"]);
});

Deno.test("EndpointSliceWatcher keeps the last replicas while the API is down", async () => {
  await using env = await setup([slice("model-abc", ["10.0.0.1", "10.0.0.2"])]);
  await env.watcher.start();
  await env.watchOpened(1);
  const opened = env.fake.watchesOpened;
  await env.fake.down();
  const failed = () =>
    env.lines.filter((line) => String(line.error).includes("connection refused")).length;
  await env.signals.until("two refused attempts", () => failed() >= 2);
  assert.deepEqual(env.pool.addresses(), ["10.0.0.1:8000", "10.0.0.2:8000"]);

  env.fake.putSlice(slice("model-abc", ["10.0.0.2"]));
  await env.fake.up();
  await env.watchOpened(opened + 1);
  await env.poolIs(["10.0.0.2:8000"]);
});

Deno.test("EndpointSliceWatcher.start() says what to check when the list fails", async (t) => {
  await t.step("API unreachable", async () => {
    await using env = await setup([]);
    await env.fake.down();
    await assert.rejects(
      env.watcher.start(),
      (error: unknown) => {
        assert.ok(error instanceof EndpointSliceError);
        assert.equal(
          error.message,
          `Cannot reach the Kubernetes API at ${env.fake.url} to list the EndpointSlices of ` +
            `Service ${NS}/${SERVICE}: connection refused; check that the API server is up and ` +
            "that --kubeconfig/--context point at it",
        );
        return true;
      },
    );
    assert.deepEqual(env.pool.addresses(), []);
  });

  await t.step("API accepts connections but never answers", async () => {
    // A listener that never reads: the list must end on its own timeout.
    const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const conn of silent) held.push(conn);
    })();
    const kubeConfig = new KubeConfig();
    const { port } = silent.addr as Deno.NetAddr;
    kubeConfig.loadFromString(kubeconfigYaml({
      server: `http://127.0.0.1:${port}`,
      insecureSkipTlsVerify: true,
      user: { token: "t" },
    }));
    const watcher = new EndpointSliceWatcher({
      kubeConfig,
      namespace: NS,
      service: SERVICE,
      pool: new ReplicaPool(),
      logger: createLogger({ component: "test", write: () => {} }),
      requestTimeoutMs: 200,
    });
    try {
      await assert.rejects(watcher.start(), (error: unknown) => {
        assert.ok(error instanceof EndpointSliceError);
        assert.equal(
          error.message,
          `Cannot reach the Kubernetes API at http://127.0.0.1:${port} to list the ` +
            `EndpointSlices of Service ${NS}/${SERVICE}: no answer within the timeout; check ` +
            "that the API server is up and that --kubeconfig/--context point at it",
        );
        return true;
      });
    } finally {
      silent.close();
      await accepting.catch(() => {});
      for (const conn of held) conn.close();
    }
  });

  await t.step("RBAC missing", async () => {
    await using env = await setup([slice("model-abc", ["10.0.0.1"])]);
    env.fake.forbid("list", "endpointslices");
    await assert.rejects(env.watcher.start(), (error: unknown) => {
      assert.ok(error instanceof EndpointSliceError);
      assert.equal(error.status, 403);
      assert.match(error.message, /grant verbs "list" and "watch" on "endpointslices"/);
      assert.match(error.message, /cannot list resource "endpointslices"/);
      return true;
    });
  });

  await t.step("EndpointSlices not served (Kubernetes before 1.21)", async () => {
    await using env = await setup([]);
    env.fake.servesEndpointSlices = false;
    await assert.rejects(env.watcher.start(), (error: unknown) => {
      assert.ok(error instanceof EndpointSliceError);
      assert.equal(error.status, 404);
      assert.equal(
        error.message,
        `Kubernetes API at ${env.fake.url} does not serve discovery.k8s.io/v1 EndpointSlices ` +
          "(404): it needs Kubernetes 1.21 or newer; else use a target file (--targets); the " +
          "server said: the server could not find the requested resource",
      );
      return true;
    });
  });

  await t.step(
    "list allowed but watch forbidden: starts, and the log says what to grant",
    async () => {
      await using env = await setup([slice("model-abc", ["10.0.0.1"])]);
      env.fake.forbid("watch", "endpointslices");
      assert.deepEqual(await env.watcher.start(), ["10.0.0.1:8000"]);
      await env.signals.until("a refused watch", () => env.lines.some((line) => line.fix));
      const refused = env.lines.find((line) => line.fix)!;
      assert.equal(refused.error, "HTTP 403 Forbidden");
      assert.match(String(refused.fix), /grant verb "watch" on "endpointslices"/);
    },
  );

  await t.step("no slices is a warning, not a failure", async () => {
    await using env = await setup([]);
    assert.deepEqual(await env.watcher.start(), []);
    await env.logged("no EndpointSlices for the service yet");
  });
});

Deno.test("EndpointSliceWatcher chooses the port by name", async (t) => {
  const ports = [{ name: "metrics", port: 9100 }, { name: "http", port: 8000 }];

  await t.step("without --port-name, warns once per slice and skips it", async () => {
    await using env = await setup([slice("model-abc", ["10.0.0.1"], { ports })]);
    assert.deepEqual(await env.watcher.start(), []);
    await env.watchOpened(1);
    env.fake.putSlice(slice("model-abc", ["10.0.0.1", "10.0.0.2"], { ports }));
    env.fake.putSlice(slice("model-def", ["10.0.0.3"]));
    await env.poolIs(["10.0.0.3:8000"]);
    const warnings = env.lines.filter((line) => String(line.msg).startsWith("skipping"));
    assert.equal(warnings.length, 1, "one warning per slice and reason");
    assert.equal(warnings[0].slice, "model-abc");
  });

  await t.step("with --port-name http, takes that port", async () => {
    await using env = await setup([slice("model-abc", ["10.0.0.1"], { ports })], {
      portName: "http",
    });
    assert.deepEqual(await env.watcher.start(), ["10.0.0.1:8000"]);
  });
});

Deno.test("EndpointSliceWatcher.stop() ends the watch and makes no more requests", async () => {
  await using env = await setup([slice("model-abc", ["10.0.0.1"])]);
  await env.watcher.start();
  await env.watchOpened(1);
  await env.watcher.stop();
  const seen = env.fake.requests.length;
  env.fake.putSlice(slice("model-abc", ["10.0.0.2"]));
  env.fake.breakWatches({ clean: true });
  // Nothing to wait for: a stopped watcher must not react; the sanitizers of
  // Deno.test then check that no request or timer is left behind.
  assert.deepEqual(env.pool.addresses(), ["10.0.0.1:8000"]);
  assert.equal(env.fake.requests.length, seen);
});

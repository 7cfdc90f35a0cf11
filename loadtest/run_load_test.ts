import assert from "node:assert/strict";
import { freePort } from "@common/free_port.ts";
import type { ImageFile } from "./images.ts";
import { type LoadProgress, MAX_ARRIVALS, runLoad, type RunLoadOptions } from "./run_load.ts";

const JPEG: ImageFile = {
  name: "a.jpg",
  contentType: "image/jpeg",
  bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1]),
};
const PNG: ImageFile = {
  name: "b.png",
  contentType: "image/png",
  bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 2]),
};
const JUNK: ImageFile = { name: "c.jpg", contentType: "image/jpeg", bytes: new Uint8Array([3]) };

/** One request as the fake server saw it. */
interface Received {
  /** `performance.now()` when it came in. */
  at: number;
  contentType: string | null;
  bytes: Uint8Array;
}

type Handler = (received: Received, index: number, released: Promise<void>) => Promise<Response>;

/**
 * A loopback HTTP server that records every request before handing it to
 * `handler`. Handlers that hold their answer wait on `released`, which the
 * test resolves (and `close` always resolves, so no handler outlives a test).
 */
function startServer(handler: Handler) {
  const received: Received[] = [];
  const gate = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const entry: Received = {
      at: performance.now(),
      contentType: request.headers.get("content-type"),
      bytes: new Uint8Array(await request.arrayBuffer()),
    };
    received.push(entry);
    return await handler(entry, received.length - 1, gate.promise);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/classify`,
    received,
    release: () => gate.resolve(),
    async close() {
      gate.resolve();
      await server.shutdown();
    },
  };
}

const ok = () => Promise.resolve(new Response(`{"label":"x"}`));

function sum(progress: LoadProgress[], pick: (p: LoadProgress) => number): number {
  return progress.reduce((total, p) => total + pick(p), 0);
}

Deno.test("runLoad() counts ok answers and failures by status", async () => {
  const server = startServer((received) => {
    const status = { 0xff: 200, 0x89: 503 }[received.bytes[0]] ?? 400;
    return Promise.resolve(new Response(`status ${status}`, { status }));
  });
  try {
    const summary = await runLoad({
      url: server.url,
      steps: [{ rate: 20, seconds: 1 }],
      images: [JPEG, PNG, JUNK],
    });

    // 20 arrivals cycle through 3 images: 7 JPEG, 7 PNG, 6 junk.
    assert.equal(server.received.length, 20);
    assert.deepEqual(server.received[0].bytes, JPEG.bytes);
    assert.equal(server.received[1].contentType, "image/png");
    assert.deepEqual(server.received[2].bytes, JUNK.bytes);
    assert.equal(summary.offered, 20);
    assert.equal(summary.sent, 20);
    assert.equal(summary.ok, 7);
    assert.equal(summary.failed, 13);
    assert.deepEqual(summary.errors, { "503": 7, "400": 6 });
    assert.equal(summary.stoppedEarly, false);
    assert.equal(summary.scheduledSeconds, 1);
    assert.equal(summary.offeredRate, 20);
    assert.ok(summary.latencyMs !== null && summary.latencyMs.p50 <= summary.latencyMs.max);
  } finally {
    await server.close();
  }
});

Deno.test("runLoad() keeps sending on schedule while the server answers nothing", async () => {
  // The server holds every answer until it has seen all 20 requests. A closed
  // loop would wait for answers before sending more and never get there.
  const server = startServer(async (_received, index, released) => {
    if (index === 19) server.release();
    await released;
    return new Response("late but fine");
  });
  try {
    const summary = await runLoad({
      url: server.url,
      steps: [{ rate: 20, seconds: 1 }],
      images: [JPEG],
      requestTimeoutMs: 5000,
    });

    assert.equal(server.received.length, 20);
    assert.equal(summary.ok, 20);
    assert.deepEqual(summary.errors, {});
    // Arrivals kept their 50 ms spacing: the last came about 950 ms after the first.
    const spread = server.received[19].at - server.received[0].at;
    assert.ok(spread > 800 && spread < 1500, `arrivals spread over ${spread} ms`);
    // Latency counts from the scheduled time, so the first request's wait shows.
    assert.ok(summary.latencyMs!.max >= 850, `max latency ${summary.latencyMs!.max} ms`);
  } finally {
    await server.close();
  }
});

Deno.test("runLoad() reports progress once per interval", async () => {
  const server = startServer(ok);
  let replicaQueries = 0;
  const progress: LoadProgress[] = [];
  try {
    const summary = await runLoad({
      url: server.url,
      steps: [{ rate: 20, seconds: 1 }],
      images: [JPEG],
      progressIntervalMs: 100,
      replicas: () => {
        replicaQueries++;
        return Promise.resolve(4);
      },
      onProgress: (p) => progress.push(p),
    });

    const expected = summary.durationSeconds * 10;
    assert.ok(
      Math.abs(progress.length - expected) <= 2,
      `${progress.length} reports in ${summary.durationSeconds} s`,
    );
    assert.equal(sum(progress, (p) => p.offered), 20);
    assert.equal(sum(progress, (p) => p.ok), summary.ok);
    assert.equal(summary.ok, 20);
    for (let i = 1; i < progress.length; i++) {
      assert.ok(progress[i].elapsedSeconds > progress[i - 1].elapsedSeconds);
    }
    for (const p of progress.slice(0, -1)) {
      assert.ok(p.intervalSeconds >= 0.05 && p.intervalSeconds < 0.5, `${p.intervalSeconds} s`);
      assert.equal(p.totalSeconds, 1);
      // The offered rate is per slot of the schedule (0.1 s), not per timer interval.
      assert.equal(p.offeredRate, Math.round(p.offered / 0.1 * 100) / 100);
    }
    assert.equal(progress.at(-1)!.replicas, 4);
    // One query at the start, then at most one per report.
    assert.ok(replicaQueries <= progress.length + 1, `${replicaQueries} replica queries`);
  } finally {
    await server.close();
  }
});

Deno.test("runLoad() counts each arrival in the slot of its scheduled time", async () => {
  const server = startServer(ok);
  const progress: LoadProgress[] = [];
  try {
    // Arrivals every 50 ms, one of them exactly on each 100 ms boundary: a
    // timer that closes the interval a little late used to move it across.
    const summary = await runLoad({
      url: server.url,
      profile: { kind: "constant", rate: 20, seconds: 1 },
      images: [JPEG],
      progressIntervalMs: 100,
      onProgress: (p) => progress.push(p),
    });
    assert.equal(summary.offered, 20);
    assert.ok(progress.length >= 10, `${progress.length} reports`);
    assert.deepEqual(progress.slice(0, 10).map((p) => p.offered), Array(10).fill(2));
    assert.deepEqual(progress.slice(0, 10).map((p) => p.offeredRate), Array(10).fill(20));
    assert.deepEqual(progress.slice(10).map((p) => p.offered), progress.slice(10).map(() => 0));
    assert.equal(sum(progress, (p) => p.ok), 20);
  } finally {
    await server.close();
  }
});

Deno.test("runLoad() stops sending when its signal aborts", async () => {
  const stop = new AbortController();
  const server = startServer((_received, index) => {
    if (index === 4) stop.abort();
    return ok();
  });
  try {
    const summary = await runLoad({
      url: server.url,
      steps: [{ rate: 20, seconds: 5 }],
      images: [JPEG],
      signal: stop.signal,
    });

    assert.equal(summary.stoppedEarly, true);
    assert.ok(summary.offered >= 5 && summary.offered <= 8, `${summary.offered} offered`);
    assert.equal(server.received.length, summary.sent);
    assert.equal(summary.ok, summary.offered);
    assert.ok(summary.durationSeconds < 2.5, `ran ${summary.durationSeconds} s of 5`);
    // The offered rate covers the time arrivals ran, not the whole profile.
    assert.ok(summary.offeredRate > 10, `offered rate ${summary.offeredRate}/s`);
  } finally {
    await server.close();
  }
});

Deno.test("runLoad() counts arrivals beyond maxOutstanding as client_overflow", async () => {
  // Answers wait until every arrival has been offered, so exactly 5 are open.
  const server = startServer(async (_received, _index, released) => {
    await released;
    return new Response("ok");
  });
  let offered = 0;
  try {
    const summary = await runLoad({
      url: server.url,
      steps: [{ rate: 20, seconds: 1 }],
      images: [JPEG],
      maxOutstanding: 5,
      requestTimeoutMs: 5000,
      progressIntervalMs: 50,
      onProgress: (p) => {
        offered += p.offered;
        if (offered === 20) server.release();
      },
    });

    assert.equal(server.received.length, 5);
    assert.equal(summary.offered, 20);
    assert.equal(summary.sent, 5);
    assert.equal(summary.ok, 5);
    assert.deepEqual(summary.errors, { client_overflow: 15 });
  } finally {
    await server.close();
  }
});

Deno.test("runLoad() counts timeouts", async (t) => {
  await t.step("of one request", async () => {
    const server = startServer(async (_received, _index, released) => {
      await released;
      return new Response("too late");
    });
    try {
      const summary = await runLoad({
        url: server.url,
        steps: [{ rate: 10, seconds: 0.5 }],
        images: [JPEG],
        requestTimeoutMs: 150,
      });
      assert.equal(server.received.length, 5);
      assert.deepEqual(summary.errors, { timeout: 5 });
      assert.equal(summary.ok, 0);
      assert.equal(summary.latencyMs, null);
    } finally {
      await server.close();
    }
  });

  await t.step("of the drain after the profile", async () => {
    const server = startServer(async (_received, _index, released) => {
      await released;
      return new Response("too late");
    });
    try {
      const summary = await runLoad({
        url: server.url,
        steps: [{ rate: 10, seconds: 0.3 }],
        images: [JPEG],
        drainTimeoutMs: 200,
      });
      assert.deepEqual(summary.errors, { timeout: 3 });
      assert.ok(summary.durationSeconds >= 0.5 && summary.durationSeconds < 2);
    } finally {
      await server.close();
    }
  });
});

Deno.test("runLoad() counts refused connections as network errors", async () => {
  const summary = await runLoad({
    url: `http://127.0.0.1:${freePort()}/classify`,
    steps: [{ rate: 20, seconds: 0.2 }],
    images: [JPEG],
  });
  assert.deepEqual(summary.errors, { network: 4 });
  assert.equal(summary.sent, 4);
});

Deno.test("runLoad() refuses bad options before sending anything", async (t) => {
  const base: RunLoadOptions = {
    url: "http://127.0.0.1:1/classify",
    steps: [{ rate: 1, seconds: 1 }],
    images: [JPEG],
  };
  const cases: [string, Partial<RunLoadOptions>, string, string][] = [
    ["bad url", { url: "ftp://x" }, "TypeError", 'expected an http(s) URL, got "ftp://x"'],
    ["no images", { images: [] }, "TypeError", "expected at least one image, got none"],
    ["no steps", { steps: [] }, "RangeError", "expected a profile of at least one step, got none"],
    [
      "endless step",
      { steps: [{ rate: 1, seconds: Infinity }] },
      "RangeError",
      "expected step 1 to have a finite rate >= 0 and seconds > 0, got rate 1 and seconds Infinity",
    ],
    [
      "too many arrivals",
      { steps: [{ rate: 1000, seconds: 20_000 }] },
      "RangeError",
      `expected at most ${MAX_ARRIVALS} arrivals, got 20000000; ` +
      "lower the rate or shorten the profile",
    ],
    [
      "zero interval",
      { progressIntervalMs: 0 },
      "RangeError",
      "expected progressIntervalMs > 0, got 0",
    ],
    [
      "fractional cap",
      { maxOutstanding: 1.5 },
      "RangeError",
      "expected an integer maxOutstanding, got 1.5",
    ],
  ];
  for (const [label, change, name, message] of cases) {
    await t.step(label, async () => {
      await assert.rejects(runLoad({ ...base, ...change }), {
        name,
        message: `Cannot run load: ${message}`,
      });
    });
  }
});

Deno.test("runLoad() sends a named profile's arrivals", async () => {
  const server = startServer(ok);
  try {
    // 0.5 s of silence, then 0.5 s at 20/s: 10 arrivals, none before 500 ms.
    const summary = await runLoad({
      url: server.url,
      profile: { kind: "spike", rate: 0, peak: 20, at: 0.5, for: 0.5, seconds: 1 },
      images: [JPEG],
    });
    assert.equal(summary.mode, "open");
    assert.equal(summary.offered, 10);
    assert.equal(server.received.length, 10);
    assert.equal(summary.ok, 10);
    assert.ok(summary.latencyMs!.p999 <= summary.latencyMs!.max);
    assert.ok(summary.latencyMs!.p50 <= summary.latencyMs!.p90);
  } finally {
    await server.close();
  }
});

Deno.test("runLoad() in a closed loop keeps one request per user in flight", async () => {
  let inFlight = 0;
  let most = 0;
  const server = startServer(async () => {
    inFlight++;
    most = Math.max(most, inFlight);
    // Long enough that every user overlaps the others.
    await new Promise((resolve) => setTimeout(resolve, 40));
    inFlight--;
    return new Response("{}");
  });
  try {
    const progress: LoadProgress[] = [];
    const summary = await runLoad({
      url: server.url,
      closedLoop: { users: 3, seconds: 0.6 },
      images: [JPEG, PNG],
      progressIntervalMs: 100,
      onProgress: (p) => progress.push(p),
    });
    assert.equal(summary.mode, "closed");
    assert.equal(most, 3);
    assert.equal(summary.sent, server.received.length);
    assert.equal(summary.ok, summary.sent);
    // Each user manages at most 0.6 s / 40 ms = 15 round trips, plus the one under way.
    assert.ok(summary.sent >= 3 && summary.sent <= 3 * 16, `${summary.sent} sent`);
    assert.equal(sum(progress, (p) => p.offered), summary.sent);
    assert.equal(summary.stoppedEarly, false);
    // Latency counts from the send, so it is near the server's 40 ms, not growing.
    assert.ok(summary.latencyMs!.p50 >= 39, `p50 ${summary.latencyMs!.p50} ms`);
  } finally {
    await server.close();
  }
});

Deno.test("runLoad() in a closed loop waits the think time between requests", async () => {
  const server = startServer(ok);
  try {
    const summary = await runLoad({
      url: server.url,
      closedLoop: { users: 1, seconds: 0.5, thinkTimeMs: 200 },
      images: [JPEG],
    });
    // Sends at about 0, 200 and 400 ms: a quick server cannot make it more.
    assert.ok(summary.sent >= 2 && summary.sent <= 3, `${summary.sent} sent`);
    const gaps = server.received.slice(1).map((r, i) => r.at - server.received[i].at);
    for (const gap of gaps) assert.ok(gap >= 190, `gap ${gap} ms`);
  } finally {
    await server.close();
  }
});

Deno.test("runLoad() refuses a profile and a closed loop together", async () => {
  await assert.rejects(
    runLoad({
      url: "http://127.0.0.1:1/x",
      steps: [{ rate: 1, seconds: 1 }],
      closedLoop: { users: 1, seconds: 1 },
      images: [JPEG],
    }),
    {
      name: "RangeError",
      message: "Cannot run load: expected exactly one of steps, profile and closedLoop, got 2",
    },
  );
  await assert.rejects(
    runLoad({ url: "http://127.0.0.1:1/x", closedLoop: { users: 0, seconds: 1 }, images: [JPEG] }),
    {
      name: "RangeError",
      message: "Cannot run load: expected closedLoop.users from 1 to 100000, got 0",
    },
  );
});

/**
 * LocalScaler's handling of replica processes that die, refuse to stop, or are
 * still starting when the scaler closes. The replicas are a stand-in: a small
 * `deno eval` HTTP server on 127.0.0.1 that the scaler starts through its usual
 * code path, so each test costs milliseconds of CPU instead of an ONNX session.
 */

import assert from "node:assert/strict";
import { createLogger } from "@common/log.ts";
import { readTargets } from "@common/targets.ts";
import { Stabilizer } from "./decide.ts";
import { LocalScaler, type LocalScalerOptions } from "./local_scaler.ts";
import { tick } from "./loop.ts";
import { createAutoscalerMetrics } from "./metrics.ts";
import { ratePolicy } from "./rate_policy.ts";

/**
 * The stand-in replica. Its first argument only marks its command line; flags:
 * `--never-ready` answers /readyz with 503, `--exit-before-ready` exits with
 * code 4 right after it listens, `--ignore-sigterm` does what it says, and
 * `--gate FILE` waits for FILE to exist before it listens. POST /crash makes it
 * log a line and exit with code 3. It exits when its stdin closes, as real
 * replicas started with --exit-with-parent do.
 */
const STAND_IN = `
const flags = Deno.args.slice(1);
const has = (flag) => flags.includes(flag);
const log = (msg, fields = {}) => console.log(JSON.stringify({ msg, ...fields }));
Deno.addSignalListener("SIGTERM", () => {
  if (has("--ignore-sigterm")) return log("ignoring SIGTERM");
  log("stopped");
  Deno.exit(0);
});
(async () => {
  for await (const _ of Deno.stdin.readable) {}
  Deno.exit(0);
})();
const gate = flags[flags.indexOf("--gate") + 1];
while (has("--gate")) {
  try {
    Deno.statSync(gate);
    break;
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
const ready = !has("--never-ready") && !has("--exit-before-ready");
Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => {
    log("listening", { port });
    if (has("--exit-before-ready")) setTimeout(() => Deno.exit(4), 0);
  },
}, (request) => {
  const path = new URL(request.url).pathname;
  if (path === "/readyz") return new Response(null, { status: ready ? 200 : 503 });
  if (path === "/crash") {
    log("simulated fatal error");
    setTimeout(() => Deno.exit(3), 10);
    return new Response("exiting");
  }
  return new Response(null, { status: 404 });
});
`;

/** Generous: two shared cores may be busy with other work. */
const WAIT_MS = 20_000;

type LogRecord = Record<string, unknown>;

/** Log records of one scaler, with a wait for a record that matches. */
class LogBook {
  readonly records: LogRecord[] = [];
  #waits = new Set<() => void>();

  add(line: string): void {
    this.records.push(JSON.parse(line));
    for (const check of [...this.#waits]) check();
  }

  /** Records with message `msg`. */
  named(msg: string): LogRecord[] {
    return this.records.filter((record) => record.msg === msg);
  }

  /** Resolves with the first record that matches, waiting up to {@linkcode WAIT_MS}. */
  until(what: string, match: (record: LogRecord) => boolean): Promise<LogRecord> {
    const { promise, resolve, reject } = Promise.withResolvers<LogRecord>();
    const check = () => {
      const found = this.records.find(match);
      if (!found) return;
      clearTimeout(timer);
      this.#waits.delete(check);
      resolve(found);
    };
    const timer = setTimeout(() => {
      this.#waits.delete(check);
      reject(new Error(`Timed out after ${WAIT_MS} ms waiting for ${what}`));
    }, WAIT_MS);
    this.#waits.add(check);
    check();
    return promise;
  }
}

/** Processes whose command line mentions `marker`, other than this one. */
function processesMentioning(marker: string): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name) || Number(entry.name) === Deno.pid) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).replaceAll("\0", " ");
      if (cmdline.includes(marker)) found.push(`${entry.name}: ${cmdline.slice(0, 80)}`);
    } catch {
      // It ended while we looked.
    }
  }
  return found;
}

/** Polls /proc until `count` stand-ins run: the processes themselves are the signal. */
async function untilRunning(marker: string, count: number): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (processesMentioning(marker).length < count) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${WAIT_MS} ms waiting for ${count} stand-in(s) to run`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Fixture {
  dir: string;
  targetsFile: string;
  scaler: LocalScaler;
  log: LogBook;
  /** The pid the scaler logged for the replica at `address`. */
  pidOf(address: string): number;
}

/** A scaler of stand-ins started with `flags`, in a fresh folder; `fn` runs, then all stops. */
async function withScaler(
  flags: string[],
  options: Partial<LocalScalerOptions>,
  fn: (fixture: Fixture) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "resnet-local-scaler-crash-" });
  const targetsFile = `${dir}/targets/model.json`;
  const logDir = `${dir}/logs`;
  await Deno.mkdir(logDir);
  const log = new LogBook();
  const scaler = new LocalScaler({
    targetsFile,
    logDir,
    replicaCommand: { args: ["eval", STAND_IN, dir] },
    replicaArgs: flags,
    deregistrationDelayMs: 0,
    startTimeoutMs: WAIT_MS,
    logger: createLogger({ component: "local-scaler", level: "debug", write: (l) => log.add(l) }),
    ...options,
  });
  const pidOf = (address: string) => {
    const ready = log.named("replica ready").find((r) => `127.0.0.1:${r.port}` === address);
    assert.ok(ready, `no "replica ready" line for ${address}`);
    return Number(ready.pid);
  };
  let passed = false;
  try {
    await scaler.init();
    await fn({ dir, targetsFile, scaler, log, pidOf });
    passed = true;
  } finally {
    await scaler.close().catch(() => {});
    if (!passed) {
      const lines = log.records.map((record) => JSON.stringify(record) + "\n");
      await Deno.writeTextFile(`${logDir}/scaler.log`, lines.join(""));
      // deno-lint-ignore no-console
      console.error(`local scaler crash test: logs kept in ${logDir}`);
    }
  }
  assert.deepEqual(processesMentioning(dir), [], "no stand-in may outlive its scaler");
  await Deno.remove(dir, { recursive: true });
}

Deno.test("LocalScaler unpublishes and counts out a replica killed with SIGKILL", async () => {
  await withScaler([], {}, async ({ targetsFile, scaler, log, pidOf }) => {
    await scaler.scaleTo(2);
    const [kept, killed] = scaler.targets();
    assert.deepEqual(await readTargets(targetsFile), [kept, killed].sort());

    const pid = pidOf(killed);
    Deno.kill(pid, "SIGKILL");
    const crash = await log.until(
      "the crash report",
      (r) => r.msg === "replica exited unexpectedly",
    );
    assert.equal(crash.level, "warn");
    assert.equal(crash.pid, pid);
    assert.equal(crash.signal, "SIGKILL");
    assert.deepEqual(await readTargets(targetsFile), [kept]);
    assert.equal(await scaler.current(), 1);
    assert.deepEqual(scaler.targets(), [kept]);

    // Replacing it is the control loop's call: the next scaleTo(2) does it.
    await scaler.scaleTo(2);
    assert.equal(await scaler.current(), 2);
    assert.equal((await readTargets(targetsFile)).length, 2);
    assert.ok((await readTargets(targetsFile)).includes(kept));
    assert.equal(log.named("replica exited unexpectedly").length, 1);
  });
});

Deno.test("LocalScaler lets the next control loop tick replace a crashed replica", async () => {
  await withScaler([], {}, async ({ targetsFile, scaler, log, pidOf }) => {
    const decisions: LogRecord[] = [];
    const context = {
      // 10 req/s at 5 per replica: the policy wants 2 replicas all along.
      policy: ratePolicy({ targetPerReplica: 5, window: "10s" }),
      source: { query: () => Promise.resolve({ ok: true as const, value: 10, time: 0 }) },
      scaler,
      options: { min: 1, max: 4, scaleDownWindowMs: 0, dryRun: false },
      stabilizer: new Stabilizer(0),
      metrics: createAutoscalerMetrics(),
      logger: createLogger({
        component: "autoscaler",
        write: (line) => decisions.push(JSON.parse(line)),
      }),
    };
    await scaler.scaleTo(2);
    const [, doomed] = scaler.targets();
    Deno.kill(pidOf(doomed), "SIGKILL");
    await log.until("the crash report", (r) => r.msg === "replica exited unexpectedly");

    const decision = await tick(context, 0);
    assert.deepEqual(
      { current: decision.current, desired: decision.desired, direction: decision.direction },
      { current: 1, desired: 2, direction: "up" },
    );
    assert.equal(decisions.length, 1);
    assert.equal(decisions[0].applied, true);
    assert.match(String(decisions[0].reason), /-> 2/);
    assert.equal(await scaler.current(), 2);
    assert.equal((await readTargets(targetsFile)).length, 2);
  });
});

Deno.test("LocalScaler reports a replica's own exit with its code and log tail", async () => {
  await withScaler([], {}, async ({ targetsFile, scaler, log }) => {
    await scaler.scaleTo(1);
    const [address] = scaler.targets();
    const answer = await fetch(`http://${address}/crash`, { method: "POST" });
    await answer.body?.cancel();

    const crash = await log.until(
      "the crash report",
      (r) => r.msg === "replica exited unexpectedly",
    );
    assert.equal(crash.level, "warn");
    assert.equal(crash.code, 3);
    assert.equal(crash.signal, null);
    assert.ok(Array.isArray(crash.tail), `no log tail in ${JSON.stringify(crash)}`);
    assert.match((crash.tail as string[]).at(-1)!, /simulated fatal error/);
    assert.match(String(crash.reason), /code 3/);
    assert.deepEqual(await readTargets(targetsFile), []);
    assert.equal(await scaler.current(), 0);
  });
});

Deno.test("LocalScaler quotes only the dead process's lines from a reused log file", async () => {
  await withScaler([], {}, async ({ dir, scaler, log }) => {
    // Left by an earlier process with the same replica number.
    for (let id = 1; id <= 3; id++) {
      await Deno.writeTextFile(`${dir}/logs/replica-${id}.log`, "line of an earlier process\n");
    }
    await scaler.scaleTo(1);
    const [address] = scaler.targets();
    const answer = await fetch(`http://${address}/crash`, { method: "POST" });
    await answer.body?.cancel();

    const crash = await log.until(
      "the crash report",
      (r) => r.msg === "replica exited unexpectedly",
    );
    const tail = crash.tail as string[];
    assert.ok(Array.isArray(tail), `no log tail in ${JSON.stringify(crash)}`);
    assert.ok(!tail.some((line) => line.includes("earlier process")), tail.join("\n"));
    assert.match(tail[0], /"msg":"listening"/);
    assert.match(tail.at(-1)!, /simulated fatal error/);
  });
});

Deno.test("LocalScaler does not report planned stops as crashes", async () => {
  await withScaler([], {}, async ({ targetsFile, scaler, log }) => {
    await scaler.scaleTo(2);
    await scaler.scaleTo(1);
    assert.equal(await scaler.current(), 1);
    assert.equal((await readTargets(targetsFile)).length, 1);
    await scaler.close();
    assert.deepEqual(await readTargets(targetsFile), []);

    assert.deepEqual(log.named("replica exited unexpectedly"), []);
    const stops = log.named("replica stopped");
    assert.equal(stops.length, 2);
    for (const stop of stops) {
      assert.equal(stop.level, "info", JSON.stringify(stop));
      assert.equal(stop.code, 0);
    }
  });
});

Deno.test("LocalScaler logs a replica killed after the drain timeout at warn", async () => {
  const options = { drainTimeoutMs: 300 };
  await withScaler(["--ignore-sigterm"], options, async ({ targetsFile, scaler, log }) => {
    await scaler.scaleTo(1);
    await scaler.scaleTo(0);
    assert.deepEqual(await readTargets(targetsFile), []);

    const [stop] = log.named("replica stopped");
    assert.ok(stop, "no stop was logged");
    assert.equal(stop.level, "warn");
    assert.equal(stop.killed, true);
    assert.equal(stop.signal, "SIGKILL");
    assert.match(String(stop.reason), /drain timeout of 300 ms/);
    assert.deepEqual(log.named("replica exited unexpectedly"), []);
  });
});

Deno.test("LocalScaler fails a start at once when the replica exits before ready", async () => {
  await withScaler(["--exit-before-ready"], {}, async ({ targetsFile, scaler, log }) => {
    await scaler.scaleTo(1);
    assert.equal(await scaler.current(), 0);
    assert.deepEqual(await readTargets(targetsFile), []);
    const [failure] = log.named("replica failed to start");
    assert.ok(failure, "the failed start was not logged");
    const error = failure.error as { message: string };
    assert.match(error.message, /exited with code 4 before \/readyz answered/);
    assert.match(error.message, /listening/);
  });
});

Deno.test("LocalScaler.close() stops replicas that a scale-up is still starting", async (t) => {
  await t.step("replicas waiting to become ready", async () => {
    await withScaler(["--never-ready"], {}, async ({ dir, targetsFile, scaler, log }) => {
      const scaling = scaler.scaleTo(2);
      const listening = () => log.named("replica listening").length === 2;
      await log.until("two replicas to listen", listening);
      await scaler.close();
      await assert.rejects(scaling, /closed while 2 replica\(s\) were starting/);
      assert.deepEqual(processesMentioning(dir), []);
      assert.deepEqual(await readTargets(targetsFile), []);
      assert.deepEqual(log.named("replica failed to start"), []);
      await assert.rejects(scaler.scaleTo(1), /the local scaler is closed/);
    });
  });

  await t.step("a replica that listens only after close() began", async () => {
    const gateDir = await Deno.makeTempDir({ prefix: "resnet-local-scaler-gate-" });
    const gate = `${gateDir}/open`;
    await withScaler(["--gate", gate], {}, async ({ dir, targetsFile, scaler, log }) => {
      const scaling = scaler.scaleTo(1);
      await untilRunning(dir, 1);
      const closing = scaler.close();
      await Deno.writeTextFile(gate, "");
      await closing;
      await assert.rejects(scaling, /closed while 1 replica\(s\) were starting/);
      assert.deepEqual(processesMentioning(dir), []);
      assert.deepEqual(await readTargets(targetsFile), []);
      assert.equal(log.named("replica listening").length, 1, "the gate opened too early");
    });
    await Deno.remove(gateDir, { recursive: true });
  });
});

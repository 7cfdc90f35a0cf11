/**
 * Scale-down loses nothing, checked with every part real: a LocalScaler runs
 * replicas serving the synthetic ResNet18 (one ONNX thread each), a dispatcher
 * process reads the target file, and real photos flow at a steady open-loop
 * rate while the fleet goes 4 -> 3 -> 2 -> 1 -> 2 -> 1. Each removal starts
 * while the leaving replica works on a request.
 *
 * Nothing is assumed about the order of a removal; it is read back from what
 * the processes and the file system recorded: the target file without the
 * replica (its mtime), the dispatcher's line dropping it, then, at least the
 * deregistration delay after the file was written, the replica's line saying
 * it got SIGTERM. The replica must refuse nothing as "draining", log "stopped"
 * and exit 0 by itself (a kill shows as 137); no answer may come from it for a
 * request forwarded after the dispatcher dropped it, and the dispatcher must
 * never have failed an attempt at it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { processesMentioning } from "@common/_test_processes.ts";
import { createLogger } from "@common/log.ts";
import { MODEL } from "@common/metrics.ts";
import { type ServiceProcess, startService } from "@common/service_process.ts";
import { sharedImages } from "@common/shared_images.ts";
import { LocalScaler } from "../autoscaler/local_scaler.ts";
import { loadImages } from "../loadtest/images.ts";
import { type LoadSummary, runLoad } from "../loadtest/run_load.ts";
import { buildSyntheticResNet18 } from "../model/synthetic_model.ts";
import { type AnswerRecorder, startAnswerRecorder } from "./_answer_recorder.ts";
import { type LogRecord, parseJsonLines, RecordBook, timeOf } from "./_record_book.ts";
import { type TargetVersions, watchTargetVersions } from "./_target_versions.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PHOTOS = `${sharedImages()}/imagenet-sample`;

/** The fleet sizes after each change; the fleet starts at 4. */
const SEQUENCE = [3, 2, 1, 2, 1];
/** Photos per second: at about 50 ms each, a third of one core in all. */
const RATE = 6;
/** Answers to see after a change before the next, so every fleet really serves. */
const ANSWERS_PER_PHASE = 8;
/** Shorter than the 1 s default to keep the test short; far above inotify's latency. */
const DEREGISTRATION_DELAY_MS = 500;
/**
 * Log times are whole ms and a timer may fire up to 1 ms early, so a pause of
 * the delay, measured between two processes, can look a few ms shorter.
 */
const CLOCK_SLACK_MS = 5;
/** Generous, because a 2-core machine starting four ONNX sessions is slow. */
const WAIT_MS = 90_000;

/** One replica the scaler started, as its "replica ready" line names it. */
interface StartedReplica {
  id: number;
  pid: number;
  address: string;
  log: LogRecord[];
}

/**
 * Resolves once the replica at `address` reports a request in its hands, so
 * that removing it next tests what happens to work it holds. Polled, because
 * only the replica knows; each poll costs it one cheap metrics render.
 */
async function holdingWork(address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const line = new RegExp(`^${MODEL.inFlight} (\\d+)`, "m");
  while (Date.now() < deadline) {
    const text = await (await fetch(`http://${address}/metrics`)).text();
    if (Number(line.exec(text)?.[1] ?? 0) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${address} to hold a request`);
}

function describe(record: LogRecord | undefined): string {
  return record === undefined ? "none" : JSON.stringify(record);
}

Deno.test({
  name: "LocalScaler.scaleTo() removes replicas under load without failing or stranding a request",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "resnet-scale-down-" });
    const logDir = `${dir}/logs`;
    await Deno.mkdir(logDir);
    const modelPath = `${dir}/synthetic.onnx`;
    await Deno.writeFile(modelPath, buildSyntheticResNet18().bytes);
    const targetsFile = `${dir}/targets/model.json`;
    const scalerLog = new RecordBook<LogRecord>();
    const dispatcherLog = new RecordBook<LogRecord>();
    /** Replicas removed while load ran, with the requests in flight when asked to. */
    const removedUnderLoad: { address: string; inFlight: number }[] = [];

    const scaler = new LocalScaler({
      targetsFile,
      logDir,
      // At debug level a replica logs every request it refuses, "draining" included.
      env: { LOG_LEVEL: "debug" },
      replicaArgs: ["--model", modelPath, "--threads", "1", "--drain-timeout", "8"],
      deregistrationDelayMs: DEREGISTRATION_DELAY_MS,
      // Above the replicas' own 8 s, so a stuck drain shows in their log first.
      drainTimeoutMs: 10_000,
      startTimeoutMs: WAIT_MS,
      logger: createLogger({
        component: "local-scaler",
        write: (line) => scalerLog.add(JSON.parse(line)),
      }),
    });
    let dispatcher: ServiceProcess | undefined;
    let files: TargetVersions | undefined;
    let recorder: AnswerRecorder | undefined;
    let summary: LoadSummary | undefined;
    let controlAddress = "";
    try {
      await scaler.init();
      files = watchTargetVersions(targetsFile);
      dispatcher = await startService({
        name: "dispatcher",
        args: [
          "run",
          "--allow-all",
          `${ROOT}dispatcher/main.ts`,
          "--port",
          "0",
          "--targets",
          targetsFile,
          "--exit-with-parent",
        ],
        env: { LOG_LEVEL: "debug" },
        logFile: `${logDir}/dispatcher.log`,
        onLine: (line) => {
          if (line.startsWith("{")) dispatcherLog.add(JSON.parse(line));
        },
      });
      await scaler.scaleTo(4);
      assert.equal(await scaler.current(), 4, `all 4 replicas should start; logs in ${logDir}`);
      // A control: a refusal must show in a replica's log, or the check
      // below that finds none would pass for want of debug lines.
      controlAddress = scaler.targets()[0];
      const control = await fetch(`http://${controlAddress}/infer`, {
        method: "POST",
        body: "not an image",
        headers: { "content-type": "text/plain" },
      });
      await control.body?.cancel();
      assert.equal(control.status, 415);
      await dispatcherLog.until(
        "the dispatcher to know 4 replicas",
        () => dispatcherLog.records.some((record) => record.replicas === 4),
        WAIT_MS,
      );

      const { images } = await loadImages(PHOTOS);
      assert.ok(images.length >= 20, `expected the sample photos in ${PHOTOS}`);
      const proxy = startAnswerRecorder(`http://127.0.0.1:${dispatcher.port}`);
      recorder = proxy;
      const answered = async (count: number) => {
        const goal = proxy.answers.records.length + count;
        const enough = () => proxy.answers.records.length >= goal;
        await proxy.answers.until(`${count} more answers`, enough, WAIT_MS);
      };
      const stopLoad = new AbortController();
      const load = runLoad({
        url: `${proxy.url}/classify`,
        images,
        // Longer than needed: the load stops once the sequence is done.
        steps: [{ rate: RATE, seconds: 300 }],
        signal: stopLoad.signal,
      });
      try {
        for (const replicas of SEQUENCE) {
          await answered(ANSWERS_PER_PHASE);
          const leaving = scaler.targets().slice(replicas);
          for (const address of leaving) await holdingWork(address, WAIT_MS);
          await proxy.busy(WAIT_MS);
          const inFlight = proxy.inFlight();
          await scaler.scaleTo(replicas);
          assert.equal(await scaler.current(), replicas, `the fleet should be ${replicas}`);
          for (const address of leaving) removedUnderLoad.push({ address, inFlight });
        }
        await answered(ANSWERS_PER_PHASE);
      } finally {
        stopLoad.abort();
        summary = await load;
      }
    } finally {
      // The last replica goes the same way, with the dispatcher still watching.
      await scaler.close();
      await dispatcher?.stop(10_000);
      await files?.close();
      await recorder?.close();
    }

    const started: StartedReplica[] = [];
    for (const ready of scalerLog.records.filter((record) => record.msg === "replica ready")) {
      const id = Number(ready.replica);
      const text = await Deno.readTextFile(`${logDir}/replica-${id}.log`);
      started.push({
        id,
        pid: Number(ready.pid),
        address: `127.0.0.1:${ready.port}`,
        log: parseJsonLines(text),
      });
    }
    started.sort((a, b) => a.id - b.id);
    const answers = recorder!.answers.records;
    const dropped = (address: string) =>
      dispatcherLog.records.find((record) =>
        Array.isArray(record.removed) && record.removed.includes(address)
      );
    const stoppingOf = (replica: StartedReplica) =>
      replica.log.find((record) => typeof record.cause === "string");
    const passed: boolean[] = [];
    // Each step checks every replica and lists all it found wrong, so one
    // failed run shows the whole picture.
    const check = async (name: string, problemsOf: (replica: StartedReplica) => string[]) => {
      passed.push(
        await t.step(name, () => {
          assert.deepEqual(started.flatMap(problemsOf), [], `logs in ${logDir}`);
        }),
      );
    };

    passed.push(
      await t.step("every request was answered 200", () => {
        const { sent, ok, failed, errors } = summary!;
        assert.ok(sent >= ANSWERS_PER_PHASE * (SEQUENCE.length + 1), `only ${sent} sent`);
        assert.equal(failed, 0, `failures by kind: ${JSON.stringify(errors)}`);
        assert.equal(ok, sent);
        const statuses = answers.map((answer) => answer.status).filter((status) => status !== 200);
        assert.deepEqual(statuses, [], "statuses other than 200 passed the recorder");
      }),
    );

    passed.push(
      await t.step("the fleet went 4 -> 3 -> 2 -> 1 -> 2 -> 1 with requests in flight", () => {
        assert.equal(started.length, 5, "4 replicas, then 1 more for the way back up");
        assert.equal(removedUnderLoad.length, 4, "one removal per step down");
        for (const { address, inFlight } of removedUnderLoad) {
          assert.ok(inFlight > 0, `${address} was removed with no request in flight`);
        }
      }),
    );

    await check("each replica left the dispatcher's pool before it got SIGTERM", (replica) => {
      const gone = dropped(replica.address);
      const stopping = stoppingOf(replica);
      if (!gone) return [`the dispatcher never logged dropping replica ${replica.id}`];
      if (stopping?.cause !== "SIGTERM") {
        return [`replica ${replica.id} did not stop on SIGTERM: ${describe(stopping)}`];
      }
      if (timeOf(gone) < timeOf(stopping)) return [];
      return [
        `replica ${replica.id} got SIGTERM at ${stopping.time}, but the dispatcher dropped ` +
        `it only at ${gone.time}`,
      ];
    });

    await check("each replica got SIGTERM no sooner than the delay after it was unpublished", (
      replica,
    ) => {
      const version = files!.unpublished(replica.address);
      const stopping = stoppingOf(replica);
      if (!version) return [`no target file without replica ${replica.id} was seen`];
      if (!stopping) return [`replica ${replica.id} never logged that it was stopping`];
      const waited = timeOf(stopping) - version.writtenAt;
      if (waited >= DEREGISTRATION_DELAY_MS - CLOCK_SLACK_MS) return [];
      return [
        `replica ${replica.id} got SIGTERM ${waited} ms after the target file without it ` +
        `was written, expected at least ${DEREGISTRATION_DELAY_MS} ms`,
      ];
    });

    await check("each replica drained and exited 0 by itself", (replica) => {
      const problems: string[] = [];
      const exit = scalerLog.records.find((record) =>
        record.msg === "replica stopped" && record.pid === replica.pid
      );
      if (exit?.code !== 0) problems.push(`replica ${replica.id} exit: ${describe(exit)}`);
      const late = replica.log.find((record) => record.msg === "drain timed out");
      if (late) problems.push(`replica ${replica.id}: ${describe(late)}`);
      if (!replica.log.some((record) => record.msg === "stopped")) {
        problems.push(`replica ${replica.id} never logged "stopped"`);
      }
      return problems;
    });

    const isRefusal = (record: LogRecord) => record.msg === "refused";
    passed.push(
      await t.step("replicas log the requests they refuse (control)", () => {
        const control = started.find((replica) => replica.address === controlAddress);
        assert.equal(
          control?.log.find(isRefusal)?.code,
          "unsupported_content_type",
          `${controlAddress} logged no refusal of the control request: is LOG_LEVEL honoured?`,
        );
      }),
    );

    await check("no request reached a replica after the dispatcher dropped it", (replica) => {
      const problems: string[] = [];
      const refused = replica.log.filter((record) =>
        isRefusal(record) && record.code !== "unsupported_content_type"
      );
      if (refused.length > 0) {
        problems.push(`replica ${replica.id} refused ${refused.length}: ${describe(refused[0])}`);
      }
      const failed = dispatcherLog.records.filter((record) =>
        record.msg === "attempt failed" && record.replica === replica.address
      );
      if (failed.length > 0) {
        problems.push(
          `the dispatcher failed ${failed.length} attempt(s) at replica ${replica.id}: ` +
            describe(failed[0]),
        );
      }
      const drop = dropped(replica.address);
      // Log times are whole ms: a request forwarded in the very ms of the
      // drop may have been placed just before it.
      const after = drop
        ? answers.filter((answer) =>
          answer.replica === replica.address && answer.forwardedAt > timeOf(drop)
        )
        : [];
      if (after.length > 0) {
        problems.push(
          `replica ${replica.id} answered ${after.length} request(s) sent after its drop`,
        );
      }
      return problems;
    });

    passed.push(
      await t.step("requests a replica held when it was dropped were still answered", () => {
        // Answered by the replica after the dispatcher dropped it: it held them
        // at that moment, and their 200 (checked above) shows they were not cut.
        const held = removedUnderLoad.map(({ address }) => {
          const drop = dropped(address);
          return answers.filter((answer) =>
            drop && answer.replica === address && answer.answeredAt > timeOf(drop)
          ).length;
        });
        assert.ok(
          held.some((count) => count > 0),
          `no removed replica held a request when it was dropped: ${held.join(", ")}`,
        );
        for (const { address } of removedUnderLoad) {
          const served = answers.filter((answer) => answer.replica === address).length;
          assert.ok(served > 0, `${address} served nothing, so its removal proved nothing`);
        }
      }),
    );

    passed.push(
      await t.step("no process outlives the test", () => {
        assert.deepEqual(processesMentioning(dir), []);
      }),
    );

    if (passed.every(Boolean)) await Deno.remove(dir, { recursive: true });
    // deno-lint-ignore no-console
    else console.error(`scale-down test: logs kept in ${logDir}`);
  },
});

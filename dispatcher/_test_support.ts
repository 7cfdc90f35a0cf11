/**
 * Helpers for the dispatcher's tests: fake replicas as real loopback servers,
 * a logger that keeps its lines, a temporary target file, and a dispatcher
 * started in this process over them.
 *
 * @module
 */

import { createLogger, type Logger } from "@common/log.ts";
import { writeTargets } from "@common/targets.ts";
import { parseConfig } from "./config.ts";
import { type Dispatcher, startDispatcher } from "./server.ts";

/** What a fake replica saw of one request. */
export interface SeenRequest {
  contentType: string | null;
  bytes: number;
}

/** A loopback server standing in for a model replica. */
export interface FakeReplica {
  /** `host:port`, as a target file lists it. */
  readonly address: string;
  /** Requests to `/infer` so far. */
  readonly seen: SeenRequest[];
  /** Requests being worked on now, and the most at once so far. */
  readonly load: { active: number; maxActive: number };
  /** Requests whose client (the dispatcher) went away before the answer. */
  readonly aborted: number;
  close(): Promise<void>;
}

/** Options of {@linkcode startFakeReplica}. */
export interface FakeReplicaOptions {
  /** Status of every answer. @default 200 */
  status?: number;
  /** Milliseconds to wait before answering. @default 0 */
  delayMs?: number;
  /** Called for each request after its body was read; the answer waits for it. */
  gate?: () => Promise<unknown>;
}

/** Starts a fake replica on 127.0.0.1 and a free port. */
export function startFakeReplica(options: FakeReplicaOptions = {}): Promise<FakeReplica> {
  const { status = 200, delayMs = 0, gate } = options;
  const seen: SeenRequest[] = [];
  const load = { active: 0, maxActive: 0 };
  let aborted = 0;
  const listening = Promise.withResolvers<number>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: ({ port }) => listening.resolve(port) },
    async (request) => {
      if (new URL(request.url).pathname !== "/infer") return new Response(null, { status: 404 });
      const body = new Uint8Array(await request.arrayBuffer());
      seen.push({ contentType: request.headers.get("content-type"), bytes: body.length });
      load.active++;
      load.maxActive = Math.max(load.maxActive, load.active);
      // Deno aborts a request's signal after a normal answer too: count only early ones.
      let answered = false;
      const onAbort = () => {
        if (!answered) aborted++;
      };
      request.signal.addEventListener("abort", onAbort, { once: true });
      try {
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (gate) await gate();
      } finally {
        answered = true;
        load.active--;
      }
      const headers = status === 503 ? { "retry-after": "2" } : undefined;
      const answer = status < 300
        ? { predictions: [{ label: "tabby", score: 0.9 }], bytes: body.length }
        : { error: `status_${status}`, message: "Fake refusal" };
      return Response.json(answer, { status, headers });
    },
  );
  return listening.promise.then((port) => ({
    address: `127.0.0.1:${port}`,
    seen,
    load,
    get aborted() {
      return aborted;
    },
    close: () => server.shutdown(),
  }));
}

/** A logger that collects parsed lines instead of printing them. */
export function memoryLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    component: "test",
    level: "debug",
    write: (line) => lines.push(JSON.parse(line)),
  });
  return { logger, lines };
}

/** A fresh temporary directory and the path of a target file inside it. */
export async function tempTargets(): Promise<{ dir: string; path: string }> {
  const dir = await Deno.makeTempDir({ prefix: "dispatcher_test_" });
  return { dir, path: `${dir}/model.json` };
}

/**
 * Waits until `check` holds, re-testing after each completed read of `watcher`
 * (a real signal) and failing after `timeoutMs`.
 */
export async function until(
  check: () => boolean,
  nextSignal: () => Promise<unknown>,
  timeoutMs = 5000,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Condition not met within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    while (!check()) await Promise.race([nextSignal(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A dispatcher started by {@linkcode startTestDispatcher}. */
export interface TestDispatcher {
  dispatcher: Dispatcher;
  /** Its target file, for tests that change the replica list. */
  path: string;
  /** Stops the dispatcher, then the replicas, and removes the target file. */
  close(): Promise<void>;
}

/**
 * Starts a dispatcher in this process on a free port, over a fresh target file
 * listing `replicas` and `extraTargets`, with `args` as extra flags.
 */
export async function startTestDispatcher(
  replicas: FakeReplica[],
  options: { args?: string[]; logger?: Logger; extraTargets?: string[] } = {},
): Promise<TestDispatcher> {
  const { dir, path } = await tempTargets();
  await writeTargets(path, [...replicas.map((r) => r.address), ...(options.extraTargets ?? [])]);
  const config = parseConfig(["--port", "0", "--targets", path, ...(options.args ?? [])], {});
  const dispatcher = await startDispatcher(config, {
    logger: options.logger ?? memoryLogger().logger,
    processMetrics: false,
    pollIntervalMs: 0,
  });
  return {
    dispatcher,
    path,
    close: async () => {
      await dispatcher.shutdown();
      await Promise.all(replicas.map((replica) => replica.close()));
      await Deno.remove(dir, { recursive: true });
    },
  };
}

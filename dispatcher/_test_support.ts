/**
 * Helpers for the dispatcher's tests: fake replicas as real loopback servers,
 * a logger that keeps its lines, and a temporary target file.
 *
 * @module
 */

import { createLogger, type Logger } from "@common/log.ts";

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
  close(): Promise<void>;
}

/** Options of {@linkcode startFakeReplica}. */
export interface FakeReplicaOptions {
  /** Status of every answer. @default 200 */
  status?: number;
  /** Milliseconds to wait before answering. @default 0 */
  delayMs?: number;
}

/** Starts a fake replica on 127.0.0.1 and a free port. */
export function startFakeReplica(options: FakeReplicaOptions = {}): Promise<FakeReplica> {
  const { status = 200, delayMs = 0 } = options;
  const seen: SeenRequest[] = [];
  const listening = Promise.withResolvers<number>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: ({ port }) => listening.resolve(port) },
    async (request) => {
      if (new URL(request.url).pathname !== "/infer") return new Response(null, { status: 404 });
      const body = new Uint8Array(await request.arrayBuffer());
      seen.push({ contentType: request.headers.get("content-type"), bytes: body.length });
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
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

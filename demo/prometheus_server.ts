/**
 * Runs the real Prometheus server for a local run, with a generated
 * configuration, its own data folder and a port that was checked to be free.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { findExecutable } from "@common/find_executable.ts";
import { copyToFile } from "@common/lines.ts";
import { waitForHttp } from "@common/wait_http.ts";

const TETHER = fileURLToPath(new URL("../common/tether_main.ts", import.meta.url));

/** Options of {@linkcode startPrometheus}. */
export interface StartPrometheusOptions {
  /** The executable. @default "prometheus" (looked up on PATH) */
  binary?: string;
  configFile: string;
  dataDir: string;
  port: number;
  logFile: string;
  /** How long Prometheus may take to become ready, in ms. @default 60000 */
  readyTimeoutMs?: number;
}

/** A running Prometheus. */
export interface PrometheusServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** The install hint shown whenever the binary is missing. */
export const INSTALL_HINT = "install it with `sudo apt-get install -y prometheus` " +
  "(Debian, Ubuntu) or put the release binary from prometheus.io on PATH, " +
  "or name it with --prometheus-bin";

/**
 * Starts Prometheus and resolves once `/-/ready` answers.
 *
 * @throws {Error} when the binary is missing (with the install hint) or it
 * exits before it is ready (with the end of its log)
 */
export async function startPrometheus(options: StartPrometheusOptions): Promise<PrometheusServer> {
  const { binary = "prometheus", configFile, dataDir, port, logFile } = options;
  const log = await Deno.open(logFile, { write: true, create: true, truncate: true });
  const executable = findExecutable(binary);
  if (executable === undefined) {
    log.close();
    throw new Error(`Cannot start Prometheus: "${binary}" was not found; ${INSTALL_HINT}`);
  }
  // Prometheus has no lifeline of its own; the tether gives it ours, so it
  // stops even when the demo is killed with SIGKILL.
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-run",
      "--allow-env",
      TETHER,
      "--",
      executable,
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--storage.tsdb.retention.time=2h",
      "--web.enable-lifecycle",
    ],
    stdin: "piped",
    // Prometheus writes its log to stderr only.
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderrDone = copyToFile(child.stderr, log).catch(() => {}).finally(() => log.close());
  const exited = child.status.then(async (status) => {
    await stderrDone;
    return status;
  });

  const url = `http://127.0.0.1:${port}`;
  const gone = new AbortController();
  exited.then(() => gone.abort());
  try {
    await waitForHttp(`${url}/-/ready`, {
      timeoutMs: options.readyTimeoutMs ?? 60_000,
      signal: gone.signal,
    });
  } catch (error) {
    await stop();
    const tail = (await Deno.readTextFile(logFile)).split("\n").slice(-8).join("\n");
    throw new Error(`Cannot start Prometheus: ${(error as Error).message}\n${tail}`);
  }

  async function stop(): Promise<void> {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Exited in the meantime.
      }
    }, 15_000);
    await exited;
    clearTimeout(timer);
  }

  return { url, pid: child.pid, stop };
}

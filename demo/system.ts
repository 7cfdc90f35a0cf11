/**
 * Starts the whole system on this machine, each part a real process: the
 * dispatcher, the autoscaler (which starts the replicas), and Prometheus.
 * The demo and the end-to-end test both use it, so the test runs what users run.
 *
 * @module
 */

import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, portIsFree } from "@common/free_port.ts";
import type { Logger } from "@common/log.ts";
import { replicasUp } from "@common/promql.ts";
import { type ServiceProcess, startService } from "@common/service_process.ts";
import { readTargets, writeTargets } from "@common/targets.ts";
import { localPrometheusConfig } from "../prometheus/local_config.ts";
import { type PrometheusServer, startPrometheus } from "./prometheus_server.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Options of {@linkcode startSystem}. */
export interface SystemOptions {
  /**
   * Folder for the target file, logs, Prometheus config and data. Its
   * `logs/*.log` files are deleted at the start, so the logs are this run's.
   */
  runDir: string;
  /** Model file the replicas serve. */
  modelPath: string;
  /** Autoscaler flags beyond those the system sets (policy, bounds, ...). */
  autoscalerArgs?: string[];
  /** Prometheus executable. @default "prometheus" */
  prometheusBin?: string;
  /**
   * Preferred Prometheus port; another free one is used when it is taken, and
   * 0 asks for any free port. @default 9090
   */
  prometheusPort?: number;
  /** Preferred dispatcher port, as for Prometheus. @default 9000 */
  dispatcherPort?: number;
  /** Called with every decision line the autoscaler logs. */
  onDecision?: (decision: Record<string, unknown>) => void;
  logger: Logger;
}

/** The running system. */
export interface System {
  dispatcherUrl: string;
  prometheusUrl: string;
  targetsFile: string;
  /** Replicas in the target file now: the one truth of which replicas exist. */
  replicas(): Promise<number>;
  /** Process ids of everything started, replicas excluded (they are the autoscaler's). */
  pids(): number[];
  /** Stops everything, in the reverse order of starting. */
  stop(): Promise<void>;
}

/**
 * Starts the system and resolves once Prometheus scrapes the first replica.
 * On failure, whatever was already started is stopped before the error is thrown.
 */
export async function startSystem(options: SystemOptions): Promise<System> {
  const { logger } = options;
  // Prometheus reads a relative file_sd path from its configuration file's
  // folder, not from here: every path handed on is absolute.
  const runDir = resolve(options.runDir);
  const targetsFile = `${runDir}/targets/model.json`;
  const logDir = `${runDir}/logs`;
  await Deno.mkdir(`${runDir}/targets`, { recursive: true });
  await Deno.mkdir(logDir, { recursive: true });
  await clearLogs(logDir);
  await Deno.remove(`${runDir}/prometheus-data`, { recursive: true }).catch(() => {});
  await writeTargets(targetsFile, []);

  const prometheusPort = pickPort(options.prometheusPort ?? 9090, "Prometheus", logger);
  const dispatcherPort = pickPort(options.dispatcherPort ?? 9000, "dispatcher", logger);
  const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
  const started: { stop(): Promise<unknown> }[] = [];
  const pids: number[] = [];
  const stopAll = async () => {
    for (const part of started.reverse()) await part.stop();
    started.length = 0;
  };

  try {
    const dispatcher = await startService({
      name: "dispatcher",
      args: [
        "run",
        "--allow-all",
        `${ROOT}dispatcher/main.ts`,
        "--port",
        String(dispatcherPort),
        "--targets",
        targetsFile,
        "--exit-with-parent",
      ],
      logFile: `${logDir}/dispatcher.log`,
    });
    started.push(dispatcher);
    pids.push(dispatcher.pid);

    let fleetReady: () => void;
    const fleet = new Promise<void>((resolve) => fleetReady = resolve);
    const autoscaler: ServiceProcess = await startService({
      name: "autoscaler",
      args: [
        "run",
        "--allow-all",
        `${ROOT}autoscaler/main.ts`,
        "--prometheus",
        prometheusUrl,
        "--targets",
        targetsFile,
        "--log-dir",
        logDir,
        "--model",
        options.modelPath,
        "--port",
        "0",
        "--exit-with-parent",
        ...(options.autoscalerArgs ?? []),
      ],
      logFile: `${logDir}/autoscaler.log`,
      onLine: (line) => {
        if (!line.startsWith("{")) return;
        const record = JSON.parse(line);
        if (record.msg === "minimum fleet ready") fleetReady();
        if (record.msg === "decision") options.onDecision?.(record);
      },
    });
    started.push(autoscaler);
    pids.push(autoscaler.pid);

    const configFile = `${runDir}/prometheus.yml`;
    await Deno.writeTextFile(
      configFile,
      localPrometheusConfig({
        targetsFile,
        dispatcher: `127.0.0.1:${dispatcher.port}`,
        autoscaler: `127.0.0.1:${autoscaler.port}`,
      }),
    );
    const prometheus: PrometheusServer = await startPrometheus({
      binary: options.prometheusBin,
      configFile,
      dataDir: `${runDir}/prometheus-data`,
      port: prometheusPort,
      logFile: `${logDir}/prometheus.log`,
    });
    started.push(prometheus);
    pids.push(prometheus.pid);

    await raceExit(fleet, autoscaler, "starting the minimum fleet");
    await waitForScrape(prometheusUrl, logDir);
    logger.info("system ready", {
      dispatcher: `http://127.0.0.1:${dispatcher.port}`,
      prometheus: prometheusUrl,
      autoscalerMetrics: `http://127.0.0.1:${autoscaler.port}/metrics`,
      logs: logDir,
    });

    return {
      dispatcherUrl: `http://127.0.0.1:${dispatcher.port}`,
      prometheusUrl,
      targetsFile,
      replicas: async () => (await readTargets(targetsFile)).length,
      pids: () => [...pids],
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * Deletes the `*.log` files directly in `logDir`. Every part appends to its
 * log, so without this a run's logs (and the tail quoted when a replica dies)
 * would mix in lines of an earlier run. Other files and folders are kept.
 */
export async function clearLogs(logDir: string): Promise<void> {
  for await (const entry of Deno.readDir(logDir)) {
    if (entry.isFile && entry.name.endsWith(".log")) {
      await Deno.remove(`${logDir}/${entry.name}`).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    }
  }
}

function pickPort(preferred: number, what: string, logger: Logger): number {
  if (preferred === 0) return freePort();
  if (portIsFree(preferred)) return preferred;
  const port = freePort();
  logger.warn(`port ${preferred} is taken, so ${what} uses ${port}`, { preferred, port });
  return port;
}

async function raceExit(work: Promise<void>, child: ServiceProcess, doing: string) {
  const exited = child.exited.then((status) => {
    throw new Error(
      `Cannot finish ${doing}: the ${child.name} exited with code ${status.code}; see its log`,
    );
  });
  await Promise.race([work, exited]);
}

// Load must not start before Prometheus has data, or the first decisions see
// no rate at all; this waits for the first successful scrape of a replica.
async function waitForScrape(
  prometheusUrl: string,
  logDir: string,
  timeoutMs = 60_000,
): Promise<void> {
  const url = `${prometheusUrl}/api/v1/query?query=${encodeURIComponent(replicasUp())}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const body = await (await fetch(url)).json();
    if (body?.data?.result?.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `Cannot see a replica in Prometheus within ${timeoutMs} ms: look for errors about the ` +
      `target file in ${logDir}/prometheus.log, and at the replica logs beside it`,
  );
}

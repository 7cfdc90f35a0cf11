/**
 * Keeps the replica pool equal to the ready endpoints of a Kubernetes Service,
 * read from its EndpointSlices (label `kubernetes.io/service-name`): one list,
 * then a watch that resumes from the last `resourceVersion` seen.
 *
 * Why not client-node's informer (`makeInformer`/`ListWatch` in 1.4.0): it
 * reports any watch failure other than 410 to an error callback and stops for
 * good, its `start()` resolves even when the first list failed, a `stop()`
 * during a relist still opens a new watch afterwards, and stopping it reports
 * the abort as an error. This loop uses client-node's `Watch` (so TLS, tokens
 * and exec credentials work exactly as for the autoscaler) and adds what the
 * dispatcher needs: restarts with capped exponential backoff, a fresh list on
 * 410 Gone, the last known replicas kept while the API cannot be reached, and a
 * `stop()` that leaves no request behind.
 *
 * Which endpoints count: `conditions.ready` not false (the API says a missing
 * value means ready) and `conditions.terminating` not true, so a pod that is
 * shutting down but still serving its last requests gets no new one.
 *
 * @module
 */

import {
  DiscoveryV1Api,
  type KubeConfig,
  Observable,
  type ObservableMiddleware,
  Watch,
} from "@kubernetes/client-node";
import type { Logger } from "@common/log.ts";
import type { PoolChange } from "./replica_pool.ts";
import { isUnreachableCode, unreachableText } from "@common/kube_errors.ts";

/** The part of an EndpointSlice this module reads; JSON field names as the API writes them. */
export interface EndpointSliceLike {
  metadata?: { name?: string; resourceVersion?: string };
  addressType?: string;
  endpoints?: {
    addresses?: string[];
    conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
  }[] | null;
  ports?: { name?: string | null; port?: number | null }[] | null;
}

/** What {@linkcode readyAddresses} found. */
export interface ReadyAddresses {
  /** `host:port` of every ready endpoint, IPv6 in brackets, sorted, no duplicates. */
  addresses: string[];
  /** Slices skipped because no port could be chosen, with the reason. */
  skipped: { slice: string; reason: string }[];
}

/**
 * The ready endpoints of some EndpointSlices of one Service, as `host:port`.
 * The port is the slice's port named `portName`, or its only port when no
 * name is given; a slice where that cannot be decided is skipped and named.
 */
export function readyAddresses(
  slices: Iterable<EndpointSliceLike>,
  portName?: string,
): ReadyAddresses {
  const addresses = new Set<string>();
  const skipped: { slice: string; reason: string }[] = [];
  for (const slice of slices) {
    const name = slice.metadata?.name ?? "(unnamed)";
    const ports = slice.ports ?? [];
    const port = portName === undefined
      ? (ports.length === 1 ? ports[0] : undefined)
      : ports.find((candidate) => (candidate.name ?? "") === portName);
    const endpoints = slice.endpoints ?? [];
    if (!port || typeof port.port !== "number") {
      // A slice with no endpoints needs no port; saying nothing avoids noise
      // while a Service is scaled to zero.
      if (endpoints.length > 0) skipped.push({ slice: name, reason: portProblem(ports, portName) });
      continue;
    }
    const ipv6 = slice.addressType === "IPv6";
    for (const endpoint of endpoints) {
      const conditions = endpoint.conditions ?? {};
      if (conditions.ready === false || conditions.terminating === true) continue;
      // All addresses of one endpoint are the same pod; the API says to use the first.
      const host = endpoint.addresses?.[0];
      if (!host) continue;
      addresses.add(`${ipv6 ? `[${host}]` : host}:${port.port}`);
    }
  }
  return { addresses: [...addresses].sort(), skipped };
}

function portProblem(ports: NonNullable<EndpointSliceLike["ports"]>, portName?: string): string {
  const names = ports.map((port) => port.name ? `"${port.name}"` : "(unnamed)").join(", ");
  if (ports.length === 0) return "it lists no ports; give the Service a port";
  if (portName === undefined) {
    return `it has ${ports.length} ports (${names}); pass --port-name to choose one`;
  }
  const found = ports.find((port) => (port.name ?? "") === portName);
  if (found) return `its port "${portName}" has no number`;
  return `it has no port named "${portName}" (it has ${names}); fix --port-name`;
}

/** The part of the replica pool the watcher drives. */
export interface EndpointPool {
  update(addresses: readonly string[]): PoolChange;
}

/** Options of {@linkcode EndpointSliceWatcher}. */
export interface EndpointSliceWatcherOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Name of the Service whose EndpointSlices are followed. */
  service: string;
  /** Name of the Service port to send requests to; needed when the Service has several. */
  portName?: string;
  pool: EndpointPool;
  logger: Logger;
  /** Called after every event or list that changed the pool. */
  onChange?: (change: PoolChange) => void;
  /** First pause after a failed watch or list, doubled per further failure, in ms. @default 500 */
  baseDelayMs?: number;
  /** Longest pause between attempts, in ms. @default 30000 */
  maxDelayMs?: number;
  /** Time a list, or a watch's first answer, may take, in ms. @default 10000 */
  requestTimeoutMs?: number;
  /**
   * Asks the API server to end each watch after this long, in seconds; the
   * watcher then resumes it. A watch silent for 30 s more than this counts as
   * broken, which catches a connection that died without a word. @default 300
   */
  watchTimeoutSeconds?: number;
}

/** The first list failed; the message says what to check. */
export class EndpointSliceError extends Error {
  /** HTTP status; undefined when no answer arrived. */
  readonly status?: number;

  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "EndpointSliceError";
    this.status = options.status;
  }
}

type WatchEnd =
  | { kind: "closed"; events: number }
  | { kind: "gone" }
  | { kind: "failed"; error: unknown; events: number };

/** Lists, then watches, the EndpointSlices of one Service and keeps the pool in step. */
export class EndpointSliceWatcher {
  #options: EndpointSliceWatcherOptions;
  #api: DiscoveryV1Api;
  #log: Logger;
  #slices = new Map<string, EndpointSliceLike>();
  #resourceVersion = "";
  #stopping = new AbortController();
  #loop?: Promise<void>;
  #watch?: AbortController;
  #warned = new Set<string>();

  constructor(options: EndpointSliceWatcherOptions) {
    const { namespace, service } = options;
    if (!namespace || !service) {
      throw new TypeError(
        `Cannot watch EndpointSlices without a namespace and a Service name: got ` +
          `"${namespace}/${service}"; pass --namespace and --service`,
      );
    }
    this.#options = options;
    this.#api = options.kubeConfig.makeApiClient(DiscoveryV1Api);
    this.#log = options.logger.child({ service: `${namespace}/${service}` });
  }

  /** The label selector sent to the API. */
  get selector(): string {
    return `kubernetes.io/service-name=${this.#options.service}`;
  }

  /**
   * Lists the slices, fills the pool, then watches in the background.
   *
   * @returns the addresses the pool holds after the first list
   * @throws {EndpointSliceError} when the first list fails; the message names the cause and
   *   what to check (API reachable, credentials, RBAC, API version)
   */
  async start(): Promise<string[]> {
    if (this.#loop) throw new Error("Cannot start the EndpointSlice watcher twice");
    let list;
    try {
      list = await this.#list();
    } catch (error) {
      throw this.#explain(error);
    }
    const addresses = this.#replace(list.items, list.resourceVersion);
    if (list.items.length === 0) {
      this.#log.warn("no EndpointSlices for the service yet", {
        selector: this.selector,
        fix: "check --namespace and --service, and that the Service has a pod selector",
      });
    }
    this.#loop = this.#run();
    return addresses;
  }

  /** Ends the watch and any pause; resolves once no request is left running. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    this.#watch?.abort();
    await this.#loop;
  }

  /** The same as {@linkcode stop}, for callers that close the target watcher. */
  close(): Promise<void> {
    return this.stop();
  }

  get #stopped(): boolean {
    return this.#stopping.signal.aborted;
  }

  async #run(): Promise<void> {
    let failures = 0;
    let relist = false;
    while (!this.#stopped) {
      if (relist) {
        try {
          const list = await this.#list();
          this.#replace(list.items, list.resourceVersion);
          relist = false;
        } catch (error) {
          if (this.#stopped) break;
          failures++;
          const delayMs = this.#delay(failures);
          this.#log.warn("cannot list EndpointSlices; keeping the last known replicas", {
            error: describe(error),
            attempt: failures,
            delayMs,
          });
          await this.#pause(delayMs);
          continue;
        }
      }

      const end = await this.#watchOnce();
      if (this.#stopped) break;
      if (end.kind === "gone") {
        // The server no longer has the history since our version: only a
        // full list can say what changed meanwhile.
        this.#log.info("watch position expired (410 Gone); listing again", {
          resourceVersion: this.#resourceVersion,
        });
        this.#resourceVersion = "";
        relist = true;
        continue;
      }
      if (end.events > 0) failures = 0;
      if (end.kind === "closed" && end.events > 0) {
        this.#log.debug("watch ended; resuming", { resourceVersion: this.#resourceVersion });
        continue;
      }
      failures++;
      const delayMs = this.#delay(failures);
      const error = end.kind === "failed" ? end.error : undefined;
      this.#log.warn("EndpointSlice watch ended; restarting, keeping the last known replicas", {
        error: error === undefined ? "closed without any event" : describe(error),
        attempt: failures,
        delayMs,
        ...fixFor(statusOf(error)),
      });
      await this.#pause(delayMs);
    }
  }

  #delay(failures: number): number {
    const { baseDelayMs = 500, maxDelayMs = 30_000 } = this.#options;
    return Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(failures - 1, 30));
  }

  #pause(ms: number): Promise<void> {
    const signal = this.#stopping.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done);
    });
  }

  async #list(): Promise<{ items: EndpointSliceLike[]; resourceVersion: string }> {
    const { namespace, requestTimeoutMs = 10_000 } = this.#options;
    const signal = AbortSignal.any([
      AbortSignal.timeout(requestTimeoutMs),
      this.#stopping.signal,
    ]);
    const middleware: ObservableMiddleware = {
      pre: (context) => {
        // client-node sets no timeout of its own: a silent server would hang the start.
        context.setSignal(signal);
        return new Observable(Promise.resolve(context));
      },
      post: (response) => new Observable(Promise.resolve(response)),
    };
    const list = await this.#api.listNamespacedEndpointSlice(
      { namespace, labelSelector: this.selector },
      { middleware: [middleware], middlewareMergeStrategy: "append" },
    );
    return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? "" };
  }

  #watchOnce(): Promise<WatchEnd> {
    const {
      kubeConfig,
      namespace,
      requestTimeoutMs = 10_000,
      watchTimeoutSeconds = 300,
    } = this.#options;
    const path = `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}` +
      "/endpointslices";
    const params = {
      labelSelector: this.selector,
      resourceVersion: this.#resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: watchTimeoutSeconds,
    };
    return new Promise((resolve) => {
      let events = 0;
      let gone = false;
      let serverError: string | undefined;
      let settled = false;
      let controller: AbortController | undefined;
      const finish = (end: WatchEnd) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        controller?.abort();
        resolve(end);
      };
      // Until the first answer, the limit is the request timeout; after it,
      // the server's own end of the watch plus a margin.
      let timer = setTimeout(
        () => finish({ kind: "failed", error: new Error("no answer within the timeout"), events }),
        requestTimeoutMs,
      );

      const onEvent = (type: string, object: unknown) => {
        if (settled || this.#stopped) return;
        events++;
        if (type === "ERROR") {
          const status = object as { code?: number; message?: string };
          if (status?.code === 410) gone = true;
          else serverError = `${status?.code ?? "?"} ${status?.message ?? "unknown error"}`;
          return;
        }
        this.#apply(type, object as EndpointSliceLike);
      };
      const onDone = (error: unknown) => {
        if (gone || statusOf(error) === 410) finish({ kind: "gone" });
        else if (error) finish({ kind: "failed", error, events });
        else if (serverError) finish({ kind: "failed", error: new Error(serverError), events });
        else finish({ kind: "closed", events });
      };

      new Watch(kubeConfig).watch(path, params, onEvent, onDone).then((started) => {
        controller = started;
        if (settled || this.#stopped) {
          started.abort();
          finish({ kind: "closed", events });
          return;
        }
        this.#watch = started;
        clearTimeout(timer);
        timer = setTimeout(
          () => finish({ kind: "failed", error: new Error("watch went silent"), events }),
          (watchTimeoutSeconds + 30) * 1000,
        );
      }, (error) => finish({ kind: "failed", error, events }));
    });
  }

  #apply(type: string, slice: EndpointSliceLike): void {
    const name = slice.metadata?.name;
    const version = slice.metadata?.resourceVersion;
    if (type === "ADDED" || type === "MODIFIED") {
      if (name) this.#slices.set(name, slice);
    } else if (type === "DELETED") {
      if (name) this.#slices.delete(name);
    } else if (type !== "BOOKMARK") {
      this.#log.debug("ignoring an unknown watch event", { type });
    }
    if (version) this.#resourceVersion = version;
    if (type !== "BOOKMARK") this.#publish(`${type.toLowerCase()} ${name}`);
  }

  #replace(items: EndpointSliceLike[], resourceVersion: string): string[] {
    this.#slices = new Map(items.map((slice) => [slice.metadata?.name ?? "", slice]));
    this.#resourceVersion = resourceVersion;
    return this.#publish("list");
  }

  #publish(reason: string): string[] {
    const { addresses, skipped } = readyAddresses(this.#slices.values(), this.#options.portName);
    for (const { slice, reason: why } of skipped) {
      const key = `${slice} ${why}`;
      if (this.#warned.has(key)) continue;
      this.#warned.add(key);
      this.#log.warn("skipping an EndpointSlice whose port cannot be chosen", { slice, why });
    }
    const change = this.#options.pool.update(addresses);
    if (change.added.length > 0 || change.removed.length > 0) {
      this.#log.info("replicas changed", {
        added: change.added,
        removed: change.removed,
        replicas: addresses.length,
        reason,
      });
      this.#options.onChange?.(change);
    }
    return addresses;
  }

  #explain(error: unknown): EndpointSliceError {
    const { namespace, service, kubeConfig } = this.#options;
    const server = kubeConfig.getCurrentCluster()?.server ?? "(no cluster)";
    const what = `list the EndpointSlices of Service ${namespace}/${service}`;
    const status = statusOf(error);
    const said = statusMessage(error);
    const tail = said ? `; the server said: ${said}` : "";
    if (status === undefined) {
      return new EndpointSliceError(
        `Cannot reach the Kubernetes API at ${server} to ${what}: ${describe(error)}; check ` +
          "that the API server is up and that --kubeconfig/--context point at it",
        { cause: error },
      );
    }
    if (status === 401) {
      return new EndpointSliceError(
        `Kubernetes API at ${server} rejected the credentials of context ` +
          `"${kubeConfig.getCurrentContext()}" (401 Unauthorized) trying to ${what}: renew the ` +
          "token or certificate in the kubeconfig, or check the pod's service account token",
        { status, cause: error },
      );
    }
    if (status === 403) {
      return new EndpointSliceError(
        `Kubernetes API forbids listing endpointslices in namespace ${namespace} (403 ` +
          'Forbidden): grant verbs "list" and "watch" on "endpointslices" (apiGroup ' +
          `discovery.k8s.io) to the dispatcher's service account${tail}`,
        { status, cause: error },
      );
    }
    if (status === 404) {
      return new EndpointSliceError(
        `Kubernetes API at ${server} does not serve discovery.k8s.io/v1 EndpointSlices (404): ` +
          `it needs Kubernetes 1.21 or newer; else use a target file (--targets)${tail}`,
        { status, cause: error },
      );
    }
    return new EndpointSliceError(
      `Cannot ${what} at ${server}: HTTP ${status}${tail}`,
      { status, cause: error },
    );
  }
}

// Refusals repeat until someone acts, so the log line says what to do.
function fixFor(status: number | undefined): { fix?: string } {
  if (status === 403) {
    return {
      fix: 'grant verb "watch" on "endpointslices" (apiGroup discovery.k8s.io) to the ' +
        "dispatcher's service account",
    };
  }
  if (status === 401) return { fix: "renew the credentials in the kubeconfig or service account" };
  return {};
}

// client-node's ApiException carries the status as a number in `code`; the
// Watch class sets `statusCode` instead.
function statusOf(error: unknown): number | undefined {
  const { code, statusCode } = (error ?? {}) as { code?: unknown; statusCode?: unknown };
  if (typeof code === "number") return code;
  return typeof statusCode === "number" ? statusCode : undefined;
}

// The API server answers failures with a Status object, kept as raw text.
function statusMessage(error: unknown): string | undefined {
  const body = (error as { body?: unknown })?.body;
  if (typeof body !== "string") return undefined;
  try {
    const parsed = JSON.parse(body);
    return parsed?.kind === "Status" && typeof parsed.message === "string"
      ? parsed.message
      : undefined;
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  const { name, code, message } = (error ?? {}) as {
    name?: string;
    code?: unknown;
    message?: string;
  };
  const status = statusOf(error);
  if (name === "AbortError" || name === "TimeoutError") return "no answer within the timeout";
  if (isUnreachableCode(code)) return unreachableText(code);
  if (status !== undefined) return `HTTP ${status}${message ? ` ${message}` : ""}`;
  return message ?? String(error);
}

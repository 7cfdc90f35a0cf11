/**
 * Test support: a loopback server that answers the few Kubernetes API calls
 * the Kubernetes scaler makes (get a Deployment, get and patch its scale
 * subresource) and the dispatcher's discovery makes (list and watch
 * EndpointSlices by label) the way a real API server does: bearer-token
 * authentication, RBAC refusals, optimistic concurrency on `resourceVersion`,
 * patch content types, watch streams of newline-delimited JSON events that
 * resume from a `resourceVersion`, and `Status` bodies for every failure.
 * Knobs inject the faults a real cluster produces: a missing permission, a
 * concurrent writer, an outage, pods that take time to become ready, a watch
 * cut off mid-stream, an event history compacted away (410 Gone).
 *
 * @module
 */

/** Kubernetes verbs the fake authorizes. */
export type Verb = "get" | "patch" | "list" | "watch";

/** Resources the fake serves, as RBAC rules name them. */
export type Resource = "deployments" | "deployments/scale" | "endpointslices";

/** One endpoint (pod) of a {@linkcode FakeEndpointSlice}, as the API writes it. */
export interface FakeEndpoint {
  addresses: string[];
  /** Omitted conditions are left out of the JSON, as the API does for nil. */
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  nodeName?: string;
  targetRef?: { kind: string; name: string; namespace: string };
}

/** One EndpointSlice the fake holds. */
export interface FakeEndpointSlice {
  namespace: string;
  name: string;
  /** Written as the `kubernetes.io/service-name` label, as the slice controller does. */
  service: string;
  /** @default "IPv4" */
  addressType?: "IPv4" | "IPv6" | "FQDN";
  endpoints: FakeEndpoint[];
  /** `port` may be left out: a slice of a headless Service without ports. */
  ports: { name?: string; port?: number; protocol?: string }[];
  /** Extra labels. */
  labels?: Record<string, string>;
}

/** A watch event as the API streams it. */
export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

/** One Deployment the fake holds. */
export interface FakeDeployment {
  namespace: string;
  name: string;
  /** Desired replicas (`spec.replicas`). */
  replicas: number;
  /**
   * At most this many pods become ready, so `readyReplicas` is
   * min(replicas, readyLimit): pods that are still starting. @default no limit
   */
  readyLimit?: number;
}

/** One request as the fake saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  contentType: string | null;
  /** The query string, e.g. `?watch=true&resourceVersion=1001`; empty without one. */
  search: string;
  /** The authenticated user; undefined when authentication failed. */
  user?: string;
}

/** Options of {@linkcode FakeKubeApi.start}. */
export interface FakeKubeApiOptions {
  /** Bearer token accepted; change it later with `fake.token = ...`. @default "test-token" */
  token?: string;
  /** User name a valid token authenticates as. */
  user?: string;
  /**
   * Trust this request header as the user's identity, as the API server's
   * request-header authentication trusts a front proxy (used behind nginx,
   * which sets it from the verified client certificate). @default none
   */
  identityHeader?: string;
  deployments?: FakeDeployment[];
  endpointSlices?: FakeEndpointSlice[];
  /** Port to listen on; 0 picks a free one. @default 0 */
  port?: number;
}

/** Patch content types a real API server accepts for a scale subresource. */
const PATCH_TYPES = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
];

const PATH = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)(\/scale)?$/;
const SLICES_PATH = /^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([^/]+)\/endpointslices$/;

interface Stored extends FakeDeployment {
  uid: string;
  resourceVersion: number;
  generation: number;
}

interface StoredSlice extends FakeEndpointSlice {
  uid: string;
  resourceVersion: number;
  generation: number;
}

/** One slice change in the store's history, replayed to watches resuming from before it. */
interface HistoryEntry {
  revision: number;
  type: "ADDED" | "MODIFIED" | "DELETED";
  /** The slice after the change; for DELETED, its last state at the deletion's revision. */
  object: SliceJson;
  /** Labels before a MODIFIED, so a watch can tell a slice leaving its selector. */
  oldLabels?: Record<string, string>;
}

/** An open watch stream. */
interface OpenWatch {
  namespace: string;
  selector: Selector;
  controller: ReadableStreamDefaultController<Uint8Array>;
  timer?: ReturnType<typeof setTimeout>;
  closed: boolean;
  /** The client asked for BOOKMARK events (`allowWatchBookmarks=true`). */
  bookmarks: boolean;
}

type Selector = (labels: Record<string, string>) => boolean;

const encoder = new TextEncoder();

/** A fake Kubernetes API server on 127.0.0.1. */
export class FakeKubeApi {
  /** The bearer token accepted now; assign to rotate it. */
  token: string;
  /** Every request received, oldest first. */
  readonly requests: SeenRequest[] = [];
  /**
   * Whether discovery.k8s.io/v1 is served; false answers 404 for it, as a
   * cluster older than Kubernetes 1.21 does.
   */
  servesEndpointSlices = true;
  #user: string;
  #identityHeader?: string;
  #deployments = new Map<string, Stored>();
  #slices = new Map<string, StoredSlice>();
  #history: HistoryEntry[] = [];
  // Watches resuming from a revision below this one get 410 Gone.
  #compactedTo = 0;
  #watches = new Set<OpenWatch>();
  #watchesOpened = 0;
  #watchWaiters: { count: number; resolve: () => void }[] = [];
  #forbidden = new Set<string>();
  #conflicts = 0;
  #server?: Deno.HttpServer;
  #port: number;
  // One counter for the whole store, as etcd's revision is.
  #revision = 1000;

  private constructor(options: FakeKubeApiOptions) {
    this.token = options.token ?? "test-token";
    this.#user = options.user ?? "system:serviceaccount:resnet:resnet-autoscaler";
    this.#identityHeader = options.identityHeader?.toLowerCase();
    this.#port = options.port ?? 0;
    for (const deployment of options.deployments ?? []) this.put(deployment);
    for (const slice of options.endpointSlices ?? []) this.putSlice(slice);
  }

  /** Starts a fake and resolves once it listens. */
  static async start(options: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
    const fake = new FakeKubeApi(options);
    await fake.up();
    return fake;
  }

  /** The port it listens on (kept across {@linkcode down} and {@linkcode up}). */
  get port(): number {
    return this.#port;
  }

  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Creates or replaces a Deployment; counts as a change. */
  put(deployment: FakeDeployment): void {
    const key = `${deployment.namespace}/${deployment.name}`;
    const old = this.#deployments.get(key);
    this.#deployments.set(key, {
      ...deployment,
      uid: old?.uid ?? crypto.randomUUID(),
      resourceVersion: ++this.#revision,
      generation: (old?.generation ?? 0) + 1,
    });
  }

  /** The stored state of a Deployment, or undefined. */
  get(namespace: string, name: string): Readonly<Stored> | undefined {
    return this.#deployments.get(`${namespace}/${name}`);
  }

  /** Lets at most `limit` pods of a Deployment be ready (undefined: all); a status change. */
  setReadyLimit(namespace: string, name: string, limit: number | undefined): void {
    const stored = this.#require(namespace, name);
    stored.readyLimit = limit;
    stored.resourceVersion = ++this.#revision;
  }

  /** Refuses `verb` on `resource` with 403 from now on. */
  forbid(verb: Verb, resource: Resource): void {
    this.#forbidden.add(`${verb} ${resource}`);
  }

  /** Allows again what {@linkcode forbid} refused. */
  allow(verb: Verb, resource: Resource): void {
    this.#forbidden.delete(`${verb} ${resource}`);
  }

  /** The store's current revision, as a list's `metadata.resourceVersion` reports it. */
  get revision(): number {
    return this.#revision;
  }

  /** Creates or replaces an EndpointSlice; open watches get ADDED or MODIFIED. */
  putSlice(slice: FakeEndpointSlice): void {
    const key = `${slice.namespace}/${slice.name}`;
    const old = this.#slices.get(key);
    const stored: StoredSlice = {
      ...structuredClone(slice),
      uid: old?.uid ?? crypto.randomUUID(),
      resourceVersion: ++this.#revision,
      generation: (old?.generation ?? 0) + 1,
    };
    this.#slices.set(key, stored);
    this.#record({
      revision: stored.resourceVersion,
      type: old ? "MODIFIED" : "ADDED",
      object: sliceOf(stored),
      oldLabels: old ? labelsOf(old) : undefined,
    });
  }

  /** Deletes an EndpointSlice; open watches get DELETED. */
  deleteSlice(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const stored = this.#slices.get(key);
    if (!stored) throw new Error(`Cannot find endpointslice ${key} in the fake`);
    this.#slices.delete(key);
    stored.resourceVersion = ++this.#revision;
    this.#record({ revision: stored.resourceVersion, type: "DELETED", object: sliceOf(stored) });
  }

  /**
   * Forgets the event history up to now, as etcd compaction does (by default
   * every 5 minutes): a watch that resumes from an older resourceVersion is
   * answered with an ERROR event carrying a 410 Gone Status, then closed.
   */
  compact(): void {
    this.#compactedTo = this.#revision;
    this.#history = [];
  }

  /**
   * Ends every open watch. `clean` closes the streams the way a server-side
   * watch timeout does; otherwise they are cut off mid-stream, as a dropped
   * connection leaves them (Deno then prints the stream's error, "watch cut
   * off by the fake", to stderr: expected, not a failure).
   */
  breakWatches(options: { clean?: boolean } = {}): void {
    for (const watch of [...this.#watches]) this.#endWatch(watch, !options.clean);
  }

  /** Sends a BOOKMARK with the current revision to every open watch that asked for them. */
  bookmark(): void {
    for (const watch of this.#watches) {
      if (!watch.bookmarks) continue;
      this.#send(watch, "BOOKMARK", {
        kind: "EndpointSlice",
        apiVersion: "discovery.k8s.io/v1",
        metadata: { resourceVersion: String(this.#revision) },
      });
    }
  }

  /** Watches open now. */
  get openWatches(): number {
    return this.#watches.size;
  }

  /** Watches opened since the start. */
  get watchesOpened(): number {
    return this.#watchesOpened;
  }

  /** Resolves once `count` watches have been opened since the start (a real signal for tests). */
  watchOpened(count: number): Promise<void> {
    if (this.#watchesOpened >= count) return Promise.resolve();
    return new Promise((resolve) => this.#watchWaiters.push({ count, resolve }));
  }

  /**
   * Makes the next `count` patches race a concurrent writer: just before each
   * one, the Deployment changes (its resourceVersion moves on), so a patch
   * that carries the version it read is answered 409 Conflict.
   */
  conflictNextPatches(count: number): void {
    this.#conflicts = count;
  }

  /** Requests whose method is `method` and whose path ends with `suffix`. */
  count(method: string, suffix: string): number {
    return this.requests.filter((r) => r.method === method && r.path.endsWith(suffix)).length;
  }

  /** Starts listening (again) on the same port. */
  up(): Promise<void> {
    if (this.#server) return Promise.resolve();
    return new Promise((resolve) => {
      this.#server = Deno.serve({
        hostname: "127.0.0.1",
        port: this.#port,
        onListen: ({ port }) => {
          this.#port = port;
          resolve();
        },
      }, (request) => this.#handle(request));
    });
  }

  /** Stops listening, as an API server outage would; {@linkcode up} comes back. */
  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    // A shutdown waits for responses in flight, and a watch never finishes by
    // itself; an API server that shuts down ends its watches this way too.
    this.breakWatches({ clean: true });
    await server?.shutdown();
  }

  /** Stops the server for good. */
  close(): Promise<void> {
    return this.down();
  }

  /**
   * A kubeconfig (YAML) for this fake: one cluster, one user with the current
   * token, one context. client-node refuses a plain-HTTP server unless the
   * cluster says `insecure-skip-tls-verify`, so it does.
   */
  kubeconfig(options: { namespace?: string; tokenFile?: string } = {}): string {
    return kubeconfigYaml({
      server: this.url,
      insecureSkipTlsVerify: true,
      namespace: options.namespace,
      user: options.tokenFile ? { tokenFile: options.tokenFile } : { token: this.token },
    });
  }

  /** Writes {@linkcode kubeconfig} to `path` and returns `path`. */
  async writeKubeconfig(
    path: string,
    options: { namespace?: string; tokenFile?: string } = {},
  ): Promise<string> {
    await Deno.writeTextFile(path, this.kubeconfig(options));
    return path;
  }

  async #handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const seen: SeenRequest = {
      method: request.method,
      path: url.pathname,
      search: url.search,
      contentType: request.headers.get("content-type"),
    };
    this.requests.push(seen);

    seen.user = this.#authenticate(request);
    if (!seen.user) return status(401, "Unauthorized", "Unauthorized");

    const slices = this.servesEndpointSlices ? SLICES_PATH.exec(url.pathname) : null;
    if (slices) return this.#endpointSlices(request, url, slices[1], seen.user);

    const match = PATH.exec(url.pathname);
    if (!match) {
      return status(404, "NotFound", "the server could not find the requested resource");
    }
    const [, namespace, name, scale] = match;
    const resource: Resource = scale ? "deployments/scale" : "deployments";
    const verb = { GET: "get", PATCH: "patch" }[request.method] as Verb | undefined;
    if (!verb || (verb === "patch" && !scale)) {
      return status(405, "MethodNotAllowed", `the server does not allow this method`);
    }
    const details = { name, group: "apps", kind: "deployments" };

    // The real server authorizes before it looks the object up, so a
    // forbidden request never learns whether the object exists.
    if (this.#forbidden.has(`${verb} ${resource}`)) {
      return status(
        403,
        "Forbidden",
        `deployments.apps "${name}" is forbidden: User "${seen.user}" cannot ${verb} ` +
          `resource "${resource}" in API group "apps" in the namespace "${namespace}"`,
        details,
      );
    }
    const stored = this.#deployments.get(`${namespace}/${name}`);
    if (!stored) return status(404, "NotFound", `deployments.apps "${name}" not found`, details);

    if (verb === "get") return Response.json(scale ? scaleOf(stored) : deploymentOf(stored));
    return await this.#patch(request, stored, details);
  }

  #endpointSlices(request: Request, url: URL, namespace: string, user: string): Response {
    if (request.method !== "GET") {
      return status(405, "MethodNotAllowed", "the server does not allow this method");
    }
    const params = url.searchParams;
    const watching = params.get("watch") === "true" || params.get("watch") === "1";
    const verb: Verb = watching ? "watch" : "list";
    if (this.#forbidden.has(`${verb} endpointslices`)) {
      return status(
        403,
        "Forbidden",
        `endpointslices.discovery.k8s.io is forbidden: User "${user}" cannot ${verb} resource ` +
          `"endpointslices" in API group "discovery.k8s.io" in the namespace "${namespace}"`,
        { group: "discovery.k8s.io", kind: "endpointslices" },
      );
    }
    const selector = parseSelector(params.get("labelSelector") ?? "");
    if (typeof selector === "string") return status(400, "BadRequest", selector);
    if (!watching) {
      const items = [...this.#slices.values()]
        .filter((slice) => slice.namespace === namespace && selector(labelsOf(slice)))
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((slice) => {
          // Items of a typed list carry no kind or apiVersion of their own.
          const { kind: _kind, apiVersion: _apiVersion, ...item } = sliceOf(slice);
          return item;
        });
      return Response.json({
        kind: "EndpointSliceList",
        apiVersion: "discovery.k8s.io/v1",
        metadata: { resourceVersion: String(this.#revision) },
        items,
      });
    }
    return this.#watch(namespace, selector, params);
  }

  #watch(namespace: string, selector: Selector, params: URLSearchParams): Response {
    const from = params.get("resourceVersion") ?? "";
    const timeoutSeconds = Number(params.get("timeoutSeconds") ?? "0");
    const bookmarks = params.get("allowWatchBookmarks") === "true";
    if (from !== "" && !/^\d+$/.test(from)) {
      return status(400, "BadRequest", `invalid resource version: "${from}"`);
    }
    let watch!: OpenWatch;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        watch = { namespace, selector, controller, closed: false, bookmarks };
      },
      cancel: () => {
        watch.closed = true;
        clearTimeout(watch.timer);
        this.#watches.delete(watch);
      },
    });
    this.#watches.add(watch);
    this.#watchesOpened++;
    for (const waiter of this.#watchWaiters.filter((w) => w.count <= this.#watchesOpened)) {
      this.#watchWaiters.splice(this.#watchWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    if (timeoutSeconds > 0) {
      watch.timer = setTimeout(() => this.#endWatch(watch, false), timeoutSeconds * 1000);
    }

    if (from === "" || from === "0") {
      // No version: the server starts with the current state as synthetic ADDED events.
      for (const slice of this.#slices.values()) {
        if (slice.namespace === namespace && selector(labelsOf(slice))) {
          this.#send(watch, "ADDED", sliceOf(slice));
        }
      }
    } else if (Number(from) < this.#compactedTo) {
      this.#send(watch, "ERROR", {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: `too old resource version: ${from} (${this.#compactedTo})`,
        reason: "Expired",
        code: 410,
      });
      this.#endWatch(watch, false);
    } else {
      for (const entry of this.#history) {
        if (entry.revision > Number(from)) this.#deliver(watch, entry);
      }
    }
    return new Response(body, {
      headers: { "content-type": "application/json", "cache-control": "no-cache, private" },
    });
  }

  #record(entry: HistoryEntry): void {
    this.#history.push(entry);
    for (const watch of this.#watches) this.#deliver(watch, entry);
  }

  // A label selector watch sees a slice that starts or stops matching as
  // ADDED or DELETED, as the real server's filtering does.
  #deliver(watch: OpenWatch, entry: HistoryEntry): void {
    if (entry.object.metadata.namespace !== watch.namespace) return;
    const now = watch.selector(entry.object.metadata.labels);
    const before = entry.oldLabels ? watch.selector(entry.oldLabels) : now;
    if (entry.type === "MODIFIED" && now !== before) {
      this.#send(watch, now ? "ADDED" : "DELETED", entry.object);
    } else if (now) {
      this.#send(watch, entry.type, entry.object);
    }
  }

  #send(watch: OpenWatch, type: WatchEventType, object: unknown): void {
    if (watch.closed) return;
    watch.controller.enqueue(encoder.encode(JSON.stringify({ type, object }) + "\n"));
  }

  #endWatch(watch: OpenWatch, abrupt: boolean): void {
    if (watch.closed) return;
    watch.closed = true;
    clearTimeout(watch.timer);
    this.#watches.delete(watch);
    if (abrupt) watch.controller.error(new Error("watch cut off by the fake"));
    else watch.controller.close();
  }

  #authenticate(request: Request): string | undefined {
    if (this.#identityHeader) {
      const identity = request.headers.get(this.#identityHeader);
      if (identity) return identity;
    }
    const header = request.headers.get("authorization") ?? "";
    return header === `Bearer ${this.token}` ? this.#user : undefined;
  }

  async #patch(
    request: Request,
    stored: Stored,
    details: Record<string, string>,
  ): Promise<Response> {
    const type = (request.headers.get("content-type") ?? "").split(";")[0].trim();
    if (!PATCH_TYPES.includes(type)) {
      return status(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: ` +
          PATCH_TYPES.join(", "),
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(await request.text());
    } catch {
      return status(400, "BadRequest", "the request body is not valid JSON");
    }
    const change = type === "application/json-patch+json"
      ? fromJsonPatch(body)
      : fromMergePatch(body);
    if (typeof change === "string") return status(400, "BadRequest", change);
    const replicas = change.replicas;
    if (replicas !== undefined && !(typeof replicas === "number" && isCount(replicas))) {
      return status(
        422,
        "Invalid",
        `Scale.autoscaling "${stored.name}" is invalid: spec.replicas: Invalid value: ` +
          `${JSON.stringify(replicas)}: must be a whole number >= 0`,
        details,
      );
    }

    if (this.#conflicts > 0) {
      this.#conflicts--;
      // Someone else wrote first.
      stored.resourceVersion = ++this.#revision;
    }
    if (
      change.resourceVersion !== undefined &&
      change.resourceVersion !== String(stored.resourceVersion)
    ) {
      return status(
        409,
        "Conflict",
        `Operation cannot be fulfilled on deployments.apps "${stored.name}": the object has been ` +
          "modified; please apply your changes to the latest version and try again",
        details,
      );
    }
    if (typeof replicas === "number" && replicas !== stored.replicas) {
      stored.replicas = replicas;
      stored.generation++;
      stored.resourceVersion = ++this.#revision;
    }
    return Response.json(scaleOf(stored));
  }

  #require(namespace: string, name: string): Stored {
    const stored = this.#deployments.get(`${namespace}/${name}`);
    if (!stored) throw new Error(`Cannot find deployment ${namespace}/${name} in the fake`);
    return stored;
  }
}

interface Change {
  replicas?: unknown;
  resourceVersion?: string;
}

function fromMergePatch(body: unknown): Change | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return "a merge patch must be a JSON object";
  }
  const patch = body as { spec?: { replicas?: unknown }; metadata?: { resourceVersion?: unknown } };
  const version = patch.metadata?.resourceVersion;
  return {
    replicas: patch.spec?.replicas,
    resourceVersion: version === undefined ? undefined : String(version),
  };
}

function fromJsonPatch(body: unknown): Change | string {
  // What the real server says when a JSON patch is not a list of operations.
  if (!Array.isArray(body)) {
    return "json: cannot unmarshal object into Go value of type jsonpatch.Patch";
  }
  const change: Change = {};
  for (const operation of body) {
    const { op, path, value } = operation ?? {};
    if (path === "/spec/replicas" && (op === "replace" || op === "add")) {
      change.replicas = value;
    } else if (path === "/metadata/resourceVersion" && op === "test") {
      change.resourceVersion = String(value);
    } else {
      return "the fake supports only replace /spec/replicas and test /metadata/resourceVersion";
    }
  }
  return change;
}

function isCount(value: number): boolean {
  return Number.isInteger(value) && value >= 0;
}

function ready(stored: Stored): number {
  return Math.min(stored.replicas, stored.readyLimit ?? Infinity);
}

function deploymentOf(stored: Stored) {
  const labels = { "app.kubernetes.io/name": stored.name };
  const readyReplicas = ready(stored);
  // Like the real API, zero-valued status counts are left out of the JSON.
  const status: Record<string, number> = { observedGeneration: stored.generation };
  if (stored.replicas > 0) {
    status.replicas = stored.replicas;
    status.updatedReplicas = stored.replicas;
  }
  if (readyReplicas > 0) {
    status.readyReplicas = readyReplicas;
    status.availableReplicas = readyReplicas;
  }
  if (stored.replicas > readyReplicas) status.unavailableReplicas = stored.replicas - readyReplicas;
  return {
    kind: "Deployment",
    apiVersion: "apps/v1",
    metadata: metadataOf(stored),
    spec: {
      replicas: stored.replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: "model", image: "resnet-model:latest" }] },
      },
    },
    status,
  };
}

function scaleOf(stored: Stored) {
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: metadataOf(stored),
    spec: stored.replicas > 0 ? { replicas: stored.replicas } : {},
    status: { replicas: stored.replicas, selector: `app.kubernetes.io/name=${stored.name}` },
  };
}

function labelsOf(slice: FakeEndpointSlice): Record<string, string> {
  return {
    ...slice.labels,
    "kubernetes.io/service-name": slice.service,
    "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
  };
}

type SliceJson = ReturnType<typeof sliceOf>;

function sliceOf(slice: StoredSlice) {
  return {
    kind: "EndpointSlice",
    apiVersion: "discovery.k8s.io/v1",
    metadata: {
      name: slice.name,
      namespace: slice.namespace,
      uid: slice.uid,
      resourceVersion: String(slice.resourceVersion),
      generation: slice.generation,
      creationTimestamp: "2026-01-01T00:00:00Z",
      labels: labelsOf(slice),
    },
    addressType: slice.addressType ?? "IPv4",
    endpoints: structuredClone(slice.endpoints),
    ports: structuredClone(slice.ports),
  };
}

// Equality-based selectors (`a=b`, `a==b`, `a!=b`, comma-separated), the kind
// a client that lists by Service name sends; set-based ones are refused.
function parseSelector(text: string): Selector | string {
  const terms: { key: string; value: string; equal: boolean }[] = [];
  for (const term of text.split(",").map((part) => part.trim()).filter((part) => part)) {
    const match = /^([A-Za-z0-9._/-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)$/.exec(term);
    if (!match) {
      return `unable to parse requirement: the fake understands only key=value, key==value ` +
        `and key!=value, got "${term}"`;
    }
    terms.push({ key: match[1], value: match[3], equal: match[2] !== "!=" });
  }
  return (labels) => terms.every(({ key, value, equal }) => (labels[key] === value) === equal);
}

function metadataOf(stored: Stored) {
  return {
    name: stored.name,
    namespace: stored.namespace,
    uid: stored.uid,
    resourceVersion: String(stored.resourceVersion),
    generation: stored.generation,
    creationTimestamp: "2026-01-01T00:00:00Z",
  };
}

function status(
  code: number,
  reason: string,
  message: string,
  details?: Record<string, string>,
): Response {
  const body = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
  return Response.json(body, { status: code });
}

/** What {@linkcode kubeconfigYaml} writes. */
export interface KubeconfigSpec {
  server: string;
  /** Base64 PEM of the CA that signed the server's certificate. */
  certificateAuthorityData?: string;
  insecureSkipTlsVerify?: boolean;
  namespace?: string;
  /** Names of the cluster, user and context. @default "fake" */
  name?: string;
  user: {
    token?: string;
    /** Read through client-node's `tokenFile` auth provider, the way in-cluster tokens are. */
    tokenFile?: string;
    /** Base64 PEM client certificate and key. */
    clientCertificateData?: string;
    clientKeyData?: string;
  };
}

/** A kubeconfig YAML document with one cluster, one user and one current context. */
export function kubeconfigYaml(spec: KubeconfigSpec): string {
  const name = spec.name ?? "fake";
  const q = (value: string | boolean) => JSON.stringify(value);
  const lines = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `  - name: ${q(name)}`,
    "    cluster:",
    `      server: ${q(spec.server)}`,
  ];
  if (spec.certificateAuthorityData) {
    lines.push(`      certificate-authority-data: ${q(spec.certificateAuthorityData)}`);
  }
  if (spec.insecureSkipTlsVerify) lines.push("      insecure-skip-tls-verify: true");
  lines.push("users:", `  - name: ${q(name)}`, "    user:");
  const { token, tokenFile, clientCertificateData, clientKeyData } = spec.user;
  if (token) lines.push(`      token: ${q(token)}`);
  if (tokenFile) {
    lines.push(
      "      auth-provider:",
      "        name: tokenFile",
      "        config:",
      `          tokenFile: ${q(tokenFile)}`,
    );
  }
  if (clientCertificateData) {
    lines.push(`      client-certificate-data: ${q(clientCertificateData)}`);
  }
  if (clientKeyData) lines.push(`      client-key-data: ${q(clientKeyData)}`);
  if (lines.at(-1) === "    user:") lines[lines.length - 1] = "    user: {}";
  lines.push("contexts:", `  - name: ${q(name)}`, "    context:");
  lines.push(`      cluster: ${q(name)}`, `      user: ${q(name)}`);
  if (spec.namespace) lines.push(`      namespace: ${q(spec.namespace)}`);
  lines.push(`current-context: ${q(name)}`, "");
  return lines.join("\n");
}

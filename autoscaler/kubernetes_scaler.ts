/**
 * Sets the replica count of a Kubernetes Deployment through its scale
 * subresource, the way `kubectl scale` and the HorizontalPodAutoscaler do.
 *
 * Writes are read-modify-write: read the scale, then merge-patch
 * `spec.replicas` together with the `metadata.resourceVersion` just read, so
 * the API server answers 409 Conflict when someone else changed the
 * Deployment in between; the scaler then reads again and retries. The patch
 * must be sent as `application/merge-patch+json`: client-node 1.x otherwise
 * labels it `application/json-patch+json`, which the server rejects for an
 * object body.
 *
 * Counting: {@linkcode KubernetesScaler.current} reports the Deployment's
 * `status.readyReplicas`, pods that pass their readiness probe and so receive
 * traffic, not `spec.replicas` (wanted) nor the scale's `status.replicas`
 * (created, including pods still loading the model). Only when the
 * credentials may not get Deployments does it fall back to the scale's
 * `status.replicas`, saying so once in the log.
 *
 * @module
 */

import {
  AppsV1Api,
  type ConfigurationOptions,
  type KubeConfig,
  Observable,
  type ObservableMiddleware,
  PatchStrategy,
  type V1Scale,
} from "@kubernetes/client-node";
import type { Logger } from "@common/log.ts";
import { serverOf } from "@common/kube_config.ts";
import type { Scaler } from "./scaler.ts";
import { isUnreachableCode, unreachableText } from "@common/kube_errors.ts";

/** How the scaler rides out an unreachable or overloaded API server. */
export interface KubernetesRetryOptions {
  /** Retries after a first attempt that found the API unreachable. @default 3 */
  attempts?: number;
  /** Pause before the first retry, doubled before each further one, in ms. @default 500 */
  baseDelayMs?: number;
  /** Time one request may take before it counts as unreachable, in ms. @default 10000 */
  timeoutMs?: number;
  /** Re-reads after a 409 Conflict before a write gives up. @default 3 */
  conflictRetries?: number;
  /** Waits `ms`; injectable so tests need not wait. @default a timer */
  sleep?: (ms: number) => Promise<void>;
}

/** Options of {@linkcode KubernetesScaler}. */
export interface KubernetesScalerOptions {
  kubeConfig: KubeConfig;
  /**
   * Loads the configuration again after the API rejected the credentials
   * (401), picking up a rotated token file; tried once per request. @default none
   */
  reloadKubeConfig?: () => KubeConfig;
  namespace: string;
  deployment: string;
  logger: Logger;
  retry?: KubernetesRetryOptions;
  /**
   * After a write, wait up to this long for the ready count to reach the new
   * value, in ms; 0 returns as soon as the API accepted the write, and the
   * loop sees the ready count catch up in later ticks. @default 0
   */
  readyTimeoutMs?: number;
  /** Pause between readiness checks while waiting, in ms. @default 1000 */
  readyPollMs?: number;
}

/** A request the API server refused or that never reached it. */
export class KubernetesApiError extends Error {
  /** HTTP status; undefined when no answer arrived. */
  readonly status?: number;
  /** The `reason` of the server's Status body, e.g. `Forbidden`. */
  readonly reason?: string;
  /** True when the same request may succeed later unchanged (outage, overload, conflict). */
  readonly retryable: boolean;

  constructor(
    message: string,
    options: { status?: number; reason?: string; retryable: boolean; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.name = "KubernetesApiError";
    this.status = options.status;
    this.reason = options.reason;
    this.retryable = options.retryable;
  }
}

type Verb = "get" | "patch";
type Resource = "deployments" | "deployments/scale";

// Answers that mean "not now": throttling and server-side trouble.
const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);

/** A {@linkcode Scaler} of one Kubernetes Deployment. */
export class KubernetesScaler implements Scaler {
  readonly kind = "kubernetes";
  #api: AppsV1Api;
  #kubeConfig: KubeConfig;
  #options: KubernetesScalerOptions;
  #retry: Required<KubernetesRetryOptions>;
  #log: Logger;
  #readsDeployment = true;

  constructor(options: KubernetesScalerOptions) {
    const { namespace, deployment } = options;
    if (!namespace || !deployment) {
      throw new TypeError(
        `Cannot scale a Deployment without a name and namespace: got "${namespace}/${deployment}"`,
      );
    }
    this.#options = options;
    this.#kubeConfig = options.kubeConfig;
    this.#api = options.kubeConfig.makeApiClient(AppsV1Api);
    this.#retry = {
      attempts: 3,
      baseDelayMs: 500,
      timeoutMs: 10_000,
      conflictRetries: 3,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...options.retry,
    };
    this.#log = options.logger.child({ deployment: `${namespace}/${deployment}` });
  }

  /** Ready replicas of the Deployment (see the module notes for the fallback). */
  async current(): Promise<number> {
    if (this.#readsDeployment) {
      try {
        const found = await this.#call(
          "get",
          "deployments",
          (api, options) => api.readNamespacedDeployment(this.#names(), options),
        );
        return found.status?.readyReplicas ?? 0;
      } catch (error) {
        if (!(error instanceof KubernetesApiError && error.status === 403)) throw error;
        this.#readsDeployment = false;
        this.#log.warn("counting created pods, not ready ones", {
          why: error.message,
          fix: 'grant "get" on deployments to count only ready pods',
        });
      }
    }
    return (await this.#readScale()).status?.replicas ?? 0;
  }

  /**
   * Sets `spec.replicas` to `replicas` (no write when it already is), retrying
   * on conflicts; waits for readiness only when `readyTimeoutMs` says so.
   *
   * @throws {RangeError} when `replicas` is not a whole number >= 0
   * @throws {KubernetesApiError} when the API refuses or cannot be reached
   */
  async scaleTo(replicas: number): Promise<void> {
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw new RangeError(`Cannot scale to ${replicas} replicas: expected a whole number >= 0`);
    }
    const { conflictRetries } = this.#retry;
    for (let attempt = 0;; attempt++) {
      const scale = await this.#readScale();
      const from = scale.spec?.replicas ?? 0;
      if (from === replicas) break;
      const resourceVersion = scale.metadata?.resourceVersion;
      try {
        await this.#call(
          "patch",
          "deployments/scale",
          (api, options) =>
            api.patchNamespacedDeploymentScale(
              { ...this.#names(), body: { metadata: { resourceVersion }, spec: { replicas } } },
              options,
            ),
          PatchStrategy.MergePatch,
        );
        this.#log.info("replicas set", { from, to: replicas, resourceVersion });
        break;
      } catch (error) {
        if (!(error instanceof KubernetesApiError && error.status === 409)) throw error;
        if (attempt >= conflictRetries) throw this.#tooManyConflicts(replicas, attempt + 1, error);
        this.#log.warn("deployment changed while writing; reading again", {
          attempt: attempt + 1,
          resourceVersion,
        });
      }
    }
    await this.#waitReady(replicas);
  }

  /** Nothing to stop: the Deployment stays as it is. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  #names() {
    return { name: this.#options.deployment, namespace: this.#options.namespace };
  }

  #readScale(): Promise<V1Scale> {
    return this.#call(
      "get",
      "deployments/scale",
      (api, options) => api.readNamespacedDeploymentScale(this.#names(), options),
    );
  }

  async #waitReady(replicas: number): Promise<void> {
    const { readyTimeoutMs = 0, readyPollMs = 1_000 } = this.#options;
    if (readyTimeoutMs <= 0) return;
    for (let waited = 0;; waited += readyPollMs) {
      const ready = await this.current();
      if (ready === replicas) return;
      if (waited >= readyTimeoutMs) {
        // The write stands; slow pods are the cluster's business, not a failure here.
        this.#log.warn("replicas not ready in time", { wanted: replicas, ready, readyTimeoutMs });
        return;
      }
      await this.#retry.sleep(readyPollMs);
    }
  }

  /**
   * Runs one API request with a timeout and an optional content type,
   * reloading credentials once after a 401 and backing off while the API
   * is unreachable; failures come out as {@linkcode KubernetesApiError}.
   */
  async #call<T>(
    verb: Verb,
    resource: Resource,
    request: (api: AppsV1Api, options: ConfigurationOptions) => Promise<T>,
    contentType?: string,
  ): Promise<T> {
    const { attempts, baseDelayMs, sleep } = this.#retry;
    let reloaded = false;
    let failures = 0;
    let waitedMs = 0;
    while (true) {
      try {
        return await request(this.#api, this.#requestOptions(contentType));
      } catch (error) {
        const status = statusOf(error);
        if (status === 401 && !reloaded && this.#options.reloadKubeConfig) {
          reloaded = true;
          this.#reload();
          continue;
        }
        if (isRetryable(error) && failures < attempts) {
          const delay = baseDelayMs * 2 ** failures;
          failures++;
          this.#log.warn("kubernetes API unavailable; retrying", {
            verb,
            resource,
            attempt: failures,
            delayMs: delay,
            error: describe(error),
          });
          await sleep(delay);
          waitedMs += delay;
          continue;
        }
        throw this.#explain(error, verb, resource, { tries: failures + 1, waitedMs });
      }
    }
  }

  #requestOptions(contentType?: string): ConfigurationOptions {
    const timeoutMs = this.#retry.timeoutMs;
    const middleware: ObservableMiddleware = {
      pre: (context) => {
        // Without this, client-node picks the first patch type it knows,
        // application/json-patch+json, and the server rejects the object body.
        if (contentType) context.setHeaderParam("Content-Type", contentType);
        // client-node sets no timeout of its own: a silent server would hang the loop.
        context.setSignal(AbortSignal.timeout(timeoutMs));
        return new Observable(Promise.resolve(context));
      },
      post: (response) => new Observable(Promise.resolve(response)),
    };
    return { middleware: [middleware], middlewareMergeStrategy: "append" };
  }

  #reload(): void {
    const reload = this.#options.reloadKubeConfig!;
    this.#log.info("credentials rejected; loading the kubeconfig again");
    this.#kubeConfig = reload();
    this.#api = this.#kubeConfig.makeApiClient(AppsV1Api);
  }

  #explain(
    error: unknown,
    verb: Verb,
    resource: Resource,
    history: { tries: number; waitedMs: number },
  ): KubernetesApiError {
    const { namespace, deployment } = this.#options;
    const server = serverOf(this.#kubeConfig);
    const target = `${resource} ${namespace}/${deployment}`;
    const status = statusOf(error);
    const body = statusBody(error);
    const said = body?.message ? `; the server said: ${body.message}` : "";
    const fields = { status, reason: body?.reason, cause: error };

    if (status === undefined) {
      const retryable = isRetryable(error);
      const tried = retryable
        ? ` (${history.tries} attempts over ${(history.waitedMs / 1000).toFixed(1)} s)`
        : "";
      const hint = retryable
        ? "check that the API server is up and that --kubeconfig/--context point at it"
        : "check the cluster's server and certificate authority and the user's credentials " +
          "in the kubeconfig";
      // A TLS or configuration failure did reach a server: say "talk to", not "reach".
      const failed = retryable ? "Cannot reach" : "Cannot talk to";
      return new KubernetesApiError(
        `${failed} the Kubernetes API at ${server} to ${verb} ${target}: ` +
          `${describe(error)}${tried}; ${hint}`,
        { ...fields, retryable },
      );
    }
    if (status === 401) {
      return new KubernetesApiError(
        `Kubernetes API at ${server} rejected the credentials of context ` +
          `"${this.#kubeConfig.getCurrentContext()}" (401 Unauthorized) on ${verb} ${target}: ` +
          "the token or client certificate is missing, wrong or expired; renew it in the " +
          "kubeconfig, or check the pod's service account token",
        { ...fields, retryable: false },
      );
    }
    if (status === 403) {
      return new KubernetesApiError(
        `Kubernetes API forbids ${verb} ${resource} in namespace ${namespace} ` +
          `(403 Forbidden, deployment ${deployment}): the service account (or kubeconfig user) ` +
          "lacks that permission; " +
          `grant verb "${verb}" on "${resource}" (apiGroup apps) in the Role bound to it, as ` +
          `k8s/base/autoscaler.yaml does${said}`,
        { ...fields, retryable: false },
      );
    }
    if (status === 404) {
      return new KubernetesApiError(
        `Deployment ${namespace}/${deployment} is missing: create it (kubectl apply -k k8s) ` +
          `or fix --namespace/--deployment${said}`,
        { ...fields, retryable: false },
      );
    }
    const tried = history.tries > 1 ? ` (${history.tries} attempts)` : "";
    // Something in between (a proxy, a load balancer) answers in its own words.
    const text = body?.message ?? plainBody(error);
    return new KubernetesApiError(
      `Cannot ${verb} ${target} at ${server}: HTTP ${status} ${body?.reason ?? ""}`.trimEnd() +
        tried + (text ? `: ${text}` : ""),
      { ...fields, retryable: RETRY_STATUSES.has(status) || status === 409 },
    );
  }

  #tooManyConflicts(replicas: number, tries: number, cause: KubernetesApiError) {
    const { namespace, deployment } = this.#options;
    return new KubernetesApiError(
      `Cannot set Deployment ${namespace}/${deployment} to ${replicas} replicas: it changed ` +
        `between read and write ${tries} times in a row (409 Conflict); another writer (an ` +
        "HorizontalPodAutoscaler, kubectl scale, a GitOps tool) is changing spec.replicas: " +
        "let only the autoscaler set it",
      { status: 409, reason: "Conflict", retryable: true, cause },
    );
  }
}

/** The HTTP status of a client-node ApiException; undefined for transport errors. */
function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "number" ? code : undefined;
}

interface StatusBody {
  message?: string;
  reason?: string;
}

// client-node keeps the raw body text of unexpected answers; the API server
// sends a Status object there.
function statusBody(error: unknown): StatusBody | undefined {
  const body = (error as { body?: unknown })?.body;
  if (typeof body !== "string") return undefined;
  try {
    const parsed = JSON.parse(body);
    return parsed?.kind === "Status" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

// The start of a body that is not a Status, markup removed, for messages.
function plainBody(error: unknown): string | undefined {
  const body = (error as { body?: unknown })?.body;
  if (typeof body !== "string") return undefined;
  const text = body.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
  return text ? text.slice(0, 160) : undefined;
}

function isRetryable(error: unknown): boolean {
  const status = statusOf(error);
  if (status !== undefined) return RETRY_STATUSES.has(status);
  const { name, code } = error as { name?: string; code?: string };
  return name === "AbortError" || isUnreachableCode(code);
}

function describe(error: unknown): string {
  const { name, code, message } = error as { name?: string; code?: unknown; message?: string };
  if (name === "AbortError") return "no answer within the request timeout";
  if (isUnreachableCode(code)) return unreachableText(code);
  if (typeof code === "number") return `HTTP ${code}`;
  return message ?? String(error);
}

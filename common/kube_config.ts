/**
 * Finds the Kubernetes credentials the autoscaler uses, in the order kubectl
 * users expect: an explicit kubeconfig file, else the pod's service account
 * when running in a cluster, else `$KUBECONFIG` or `~/.kube/config`.
 *
 * Token rotation: in a pod, client-node reads the service account token
 * through its `tokenFile` auth provider, which re-reads the file at most 60 s
 * after the last read. The kubelet replaces the projected token long before
 * the old one expires, so that delay is harmless; the scaler still reloads
 * the configuration once after a 401 (see `kubernetes_scaler.ts`), which also
 * covers a kubeconfig `token-file`, read only when the file is loaded.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { isIPv6 } from "node:net";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";

/** Where a pod finds its service account credentials. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Options of {@linkcode loadKubeConfig}. */
export interface LoadKubeConfigOptions {
  /** A kubeconfig file; wins over everything else. */
  kubeconfig?: string;
  /** Context to use instead of the file's `current-context`. */
  context?: string;
  /**
   * true: use the pod's service account, fail outside a pod; false: never;
   * undefined: use it when `KUBERNETES_SERVICE_HOST` is set and no file is given.
   */
  inCluster?: boolean;
  /** Environment, injectable for tests. @default Deno.env.toObject() */
  env?: Record<string, string | undefined>;
  /** Folder of the service account files, injectable for tests. @default SERVICE_ACCOUNT_DIR */
  serviceAccountDir?: string;
}

/**
 * Loads and checks a kubeconfig.
 *
 * @throws {Error} when no configuration is found, a file cannot be read, the
 *   context does not exist, or the configuration cannot work with client-node
 */
export function loadKubeConfig(options: LoadKubeConfigOptions = {}): KubeConfig {
  const env = options.env ?? Deno.env.toObject();
  const { kubeconfig, context } = options;
  const kc = new KubeConfig();

  if (kubeconfig) {
    loadFile(kc, kubeconfig, "--kubeconfig");
  } else if (options.inCluster ?? Boolean(env.KUBERNETES_SERVICE_HOST)) {
    if (context) {
      throw new Error(
        `Cannot use --context "${context}" in a cluster: contexts belong to kubeconfig files; ` +
          "pass --kubeconfig as well, or drop --context",
      );
    }
    loadInCluster(kc, env, options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR);
  } else {
    loadDefault(kc, env);
  }

  if (context) useContext(kc, context);
  check(kc);
  return kc;
}

/** The namespace of the current context (or the pod's own), else `default`. */
export function defaultNamespace(kc: KubeConfig): string {
  return kc.getContextObject(kc.getCurrentContext())?.namespace || "default";
}

/** The API server URL of the current context, for messages. */
export function serverOf(kc: KubeConfig): string {
  return kc.getCurrentCluster()?.server ?? "(no cluster)";
}

function loadFile(kc: KubeConfig, path: string, origin: string): void {
  try {
    kc.loadFromFile(path);
  } catch (cause) {
    const why = (cause as { code?: string }).code === "ENOENT"
      ? "the file does not exist"
      : (cause as Error).message;
    throw new Error(`Cannot load kubeconfig ${path}: ${why}; check ${origin}`, { cause });
  }
}

// client-node's own loadFromCluster reads process.env directly and switches to
// plain HTTP for ports 80, 8080 and 8001, which its agent then refuses; this
// builds the same configuration (token file auth provider, CA file, pod
// namespace) from injectable inputs and always over HTTPS, as pods reach the API.
function loadInCluster(
  kc: KubeConfig,
  env: Record<string, string | undefined>,
  dir: string,
): void {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT || "443";
  if (!host) {
    throw new Error(
      "Cannot use the in-cluster configuration: KUBERNETES_SERVICE_HOST is not set, so this " +
        "is not a pod; pass --kubeconfig instead",
    );
  }
  const tokenFile = join(dir, "token");
  const caFile = join(dir, "ca.crt");
  for (const file of [tokenFile, caFile]) {
    if (!existsSync(file)) {
      throw new Error(
        `Cannot use the in-cluster configuration: ${file} is missing; mount the service ` +
          "account token (automountServiceAccountToken: true) or pass --kubeconfig",
      );
    }
  }
  const namespaceFile = join(dir, "namespace");
  const namespace = existsSync(namespaceFile)
    ? Deno.readTextFileSync(namespaceFile).trim()
    : undefined;
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  kc.loadFromOptions({
    clusters: [{ name: "in-cluster", server, caFile, skipTLSVerify: false }],
    users: [{
      name: "service-account",
      authProvider: { name: "tokenFile", config: { tokenFile } },
    }],
    contexts: [{ name: "in-cluster", cluster: "in-cluster", user: "service-account", namespace }],
    currentContext: "in-cluster",
  });
}

// Follows client-node's loadFromDefault (every $KUBECONFIG file, else
// ~/.kube/config) from the injected environment, without its last resort: an
// unauthenticated http://localhost:8080 is never what the autoscaler wants.
// As with kubectl, the first file that sets current-context decides it.
function loadDefault(kc: KubeConfig, env: Record<string, string | undefined>): void {
  const listed = env.KUBECONFIG?.split(":").filter((file) => file) ?? [];
  const home = env.HOME ? join(env.HOME, ".kube", "config") : undefined;
  const files = listed.length > 0 ? listed : home && existsSync(home) ? [home] : [];
  if (files.length === 0) {
    throw new Error(
      "Cannot find Kubernetes credentials: no --kubeconfig, $KUBECONFIG is unset, " +
        `${home ?? "~/.kube/config"} does not exist and KUBERNETES_SERVICE_HOST is unset ` +
        "(not in a pod); pass --kubeconfig FILE",
    );
  }
  const origin = listed.length > 0 ? "$KUBECONFIG" : home!;
  const [first, ...rest] = files;
  loadFile(kc, first, origin);
  for (const file of rest) {
    const more = new KubeConfig();
    loadFile(more, file, origin);
    try {
      kc.mergeConfig(more, Boolean(kc.getCurrentContext()));
    } catch (cause) {
      throw new Error(
        `Cannot merge kubeconfig ${file} from $KUBECONFIG: ${(cause as Error).message}; ` +
          "give each cluster, user and context one name across the files",
        { cause },
      );
    }
  }
}

function useContext(kc: KubeConfig, context: string): void {
  if (!kc.getContextObject(context)) {
    const known = kc.getContexts().map((c) => c.name).join(", ") || "none";
    throw new Error(
      `Cannot use context "${context}": the kubeconfig has no such context (it has: ${known}); ` +
        "check --context",
    );
  }
  kc.setCurrentContext(context);
}

function check(kc: KubeConfig): void {
  const current = kc.getCurrentContext();
  if (!current || !kc.getContextObject(current)) {
    const known = kc.getContexts().map((c) => c.name).join(", ") || "none";
    throw new Error(
      `Cannot pick a Kubernetes context: the kubeconfig sets no valid current-context ` +
        `("${current ?? ""}"; contexts: ${known}); pass --context`,
    );
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new Error(
      `Cannot use context "${current}": the cluster it names is not in the kubeconfig`,
    );
  }
  if (cluster.server.startsWith("http:") && !cluster.skipTLSVerify) {
    // client-node refuses every request in this case, with a message that
    // names neither the cluster nor the way out.
    throw new Error(
      `Cannot use cluster "${cluster.name}" at ${cluster.server}: client-node sends plain HTTP ` +
        "only when the cluster entry sets insecure-skip-tls-verify: true; use https or set it",
    );
  }
}

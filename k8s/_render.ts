/**
 * Test support: renders the kustomizations with `kubectl kustomize` (offline)
 * and offers the lookups the manifest checks share.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseYamlDocuments } from "./_yaml_subset.ts";

/** The k8s folder. */
export const K8S = fileURLToPath(new URL(".", import.meta.url));

/** The workspace root. */
export const ROOT = join(K8S, "..");

/** Loose shape of a rendered object: the checks read it field by field. */
// deno-lint-ignore no-explicit-any
export type Doc = Record<string, any>;

/** Whether `name args` runs and succeeds; false when the program is missing. */
export function hasTool(name: string, args: string[]): boolean {
  try {
    return new Deno.Command(name, { args, stdout: "null", stderr: "null" }).outputSync().success;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** kubectl renders kustomizations offline; the checks that need it skip without it. */
export const HAS_KUBECTL = hasTool("kubectl", ["version", "--client"]);

/** Appended to the name of a test that skipped for want of kubectl. */
export const NO_KUBECTL = " (skipped: kubectl is not on PATH; install the kubectl client)";

/** Runs a program and returns whether it succeeded and its stdout and stderr together. */
export async function run(
  command: string,
  args: string[],
): Promise<{ ok: boolean; stdout: string; output: string }> {
  const result = await new Deno.Command(command, { args, stdin: "null" }).output();
  const decoder = new TextDecoder();
  const stdout = decoder.decode(result.stdout);
  return { ok: result.success, stdout, output: stdout + decoder.decode(result.stderr) };
}

/**
 * Every kustomization a user may apply: `k8s` itself and each folder of
 * `k8s/overlays`, as paths relative to the workspace root.
 */
export function kustomizations(): string[] {
  const overlays = [...Deno.readDirSync(join(K8S, "overlays"))]
    .filter((entry) => entry.isDirectory)
    .map((entry) => relative(ROOT, join(K8S, "overlays", entry.name)))
    .sort();
  return [relative(ROOT, K8S).replace(/\/$/, ""), ...overlays];
}

/** One rendered kustomization and lookups into it. */
export interface Rendered {
  /** The kustomization's folder, relative to the workspace root. */
  path: string;
  docs: Doc[];
  /** The object of that kind and name; fails the test when there is none. */
  find(kind: string, name: string): Doc;
  /** Like `find`, but undefined when absent. */
  maybe(kind: string, name: string): Doc | undefined;
}

/** `kubectl kustomize` of one folder (relative to the workspace root), decoded. */
export async function render(path: string): Promise<Rendered> {
  const { ok, stdout, output } = await run("kubectl", ["kustomize", join(ROOT, path)]);
  assert.ok(ok, `kubectl kustomize ${path} failed:\n${output}`);
  const docs = parseYamlDocuments(stdout) as Doc[];
  const maybe = (kind: string, name: string) =>
    docs.find((d) => d.kind === kind && d.metadata?.name === name);
  const find = (kind: string, name: string): Doc => {
    const doc = maybe(kind, name);
    assert.ok(doc, `${path}: expected a ${kind} named ${name}; have ${names(docs)}`);
    return doc;
  };
  return { path, docs, find, maybe };
}

function names(docs: Doc[]): string {
  return docs.map((d) => `${d.kind}/${d.metadata?.name}`).join(", ");
}

/** `["--a", "x", "--b=y"]` as `{ "--a": "x", "--b": "y" }`; a bare last flag maps to "". */
export function flags(args: string[] = []): Record<string, string> {
  const result: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s);
    result[flag] = inline ?? args[++i] ?? "";
  }
  return result;
}

/** The one main container of a Deployment (init containers aside). */
export function container(deployment: Doc): Doc {
  const containers = deployment.spec.template.spec.containers;
  assert.equal(containers.length, 1, `${deployment.metadata.name} runs one container`);
  return containers[0];
}

/** Labels of a Deployment's pods. */
export function podLabels(deployment: Doc): Record<string, string> {
  return deployment.spec.template.metadata.labels;
}

/** Whether an equality selector picks pods with these labels. */
export function selects(
  selector: Record<string, string>,
  labels: Record<string, string>,
): boolean {
  return Object.keys(selector).length > 0 &&
    Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/** One RBAC permission: a verb on a resource of an API group ("" is the core group). */
export interface Permission {
  group: string;
  resource: string;
  verb: string;
}

/** The permissions a Role grants, one per group, resource and verb. */
export function grants(role: Doc): Permission[] {
  return (role.rules ?? []).flatMap((rule: Doc) =>
    rule.apiGroups.flatMap((group: string) =>
      rule.resources.flatMap((resource: string) =>
        rule.verbs.map((verb: string) => ({ group, resource, verb }))
      )
    )
  );
}

/** Whether a Role allows a permission (wildcards count). */
export function allows(role: Doc, wanted: Permission): boolean {
  return grants(role).some((p) =>
    (p.group === wanted.group || p.group === "*") &&
    (p.resource === wanted.resource || p.resource === "*") &&
    (p.verb === wanted.verb || p.verb === "*")
  );
}

/**
 * The value of each environment variable of a container: a literal value, or
 * `fieldRef:<path>` for the downward API.
 */
export function envOf(main: Doc): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of main.env ?? []) {
    env[variable.name] = variable.value ??
      (variable.valueFrom?.fieldRef ? `fieldRef:${variable.valueFrom.fieldRef.fieldPath}` : "");
  }
  return env;
}

/**
 * Arguments as the kubelet passes them: `$(NAME)` replaced by the variable's
 * value, with a downward-API namespace resolved to `namespace`.
 */
export function expandArgs(main: Doc, namespace: string): string[] {
  const env = envOf(main);
  return (main.args ?? []).map((arg: string) =>
    arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name) => {
      const value = env[name];
      if (value === undefined) return whole;
      return value === "fieldRef:metadata.namespace" ? namespace : value;
    })
  );
}

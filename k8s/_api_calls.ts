/**
 * Test support: which Kubernetes API permissions a component's code needs,
 * read from its source. A call of a client-node API method (for example
 * `readNamespacedDeploymentScale` of `AppsV1Api`) is mapped to the RBAC verb,
 * group and resource the API server checks; an API path in a string next to a
 * `Watch` or an informer is mapped to list and watch of that resource.
 *
 * @module
 */

import { join } from "node:path";
import * as client from "@kubernetes/client-node";
import type { Permission } from "./_render.ts";

/** A permission and where the code asks for it. */
export interface FoundCall extends Permission {
  file: string;
  /** The method or path that needs it. */
  call: string;
}

/** The RBAC verb of each client-node method prefix. */
const VERBS: Record<string, string> = {
  read: "get",
  list: "list",
  patch: "patch",
  replace: "update",
  create: "create",
  delete: "delete",
  deleteCollection: "deletecollection",
};

const METHOD = /^(read|list|patch|replace|create|deleteCollection|delete)(Namespaced)?([A-Z]\w*)$/;

/** Subresources client-node appends to a kind's name. */
const SUBRESOURCES = ["Scale", "Status", "Ephemeralcontainers", "Eviction", "Log", "Binding"];

/** Every client-node API class, by name, e.g. `AppsV1Api`. */
function apiClasses(): Map<string, Record<string, unknown>> {
  const classes = new Map<string, Record<string, unknown>>();
  for (const [name, value] of Object.entries(client)) {
    if (/^[A-Z]\w*V\d\w*Api$/.test(name) && typeof value === "function") {
      classes.set(name, (value as { prototype: Record<string, unknown> }).prototype);
    }
  }
  return classes;
}

/**
 * The API group of a client-node class: `CoreV1Api` is the core group "";
 * `AppsV1Api` is "apps", `DiscoveryV1Api` is "discovery.k8s.io".
 */
export function groupOf(apiClass: string): string {
  const prefix = apiClass.replace(/V\d\w*Api$/, "");
  if (prefix === "Core") return "";
  const known: Record<string, string> = {
    Apps: "apps",
    Autoscaling: "autoscaling",
    Batch: "batch",
    Policy: "policy",
  };
  if (known[prefix]) return known[prefix];
  // RbacAuthorization -> rbac.authorization.k8s.io, Discovery -> discovery.k8s.io
  return prefix.replace(/(?!^)([A-Z])/g, ".$1").toLowerCase() + ".k8s.io";
}

/** `DeploymentScale` as `deployments/scale`, `EndpointSlice` as `endpointslices`. */
export function resourceOf(kindAndSubresource: string): string {
  const sub = SUBRESOURCES.find((s) => kindAndSubresource.endsWith(s) && kindAndSubresource !== s);
  const kind = sub ? kindAndSubresource.slice(0, -sub.length) : kindAndSubresource;
  const lower = kind.toLowerCase();
  const plural = lower === "endpoints"
    ? lower
    : lower.endsWith("y")
    ? `${lower.slice(0, -1)}ies`
    : lower.endsWith("s")
    ? `${lower}es`
    : `${lower}s`;
  return sub ? `${plural}/${sub.toLowerCase()}` : plural;
}

/** `/apis/discovery.k8s.io/v1/namespaces/x/endpointslices` as group and resource. */
export function pathResource(path: string): { group: string; resource: string } | undefined {
  const match = /^\/(?:api\/v1|apis\/([a-z0-9.-]+)\/v[a-z0-9]+)(?:\/namespaces\/[^/]+)?\/([a-z]+)/
    .exec(path);
  return match ? { group: match[1] ?? "", resource: match[2] } : undefined;
}

/** The production source files of a component folder (no tests, no fakes, no test support). */
export function sourceFiles(root: string, folder: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(join(root, dir))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) walk(path);
      else if (
        entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts") &&
        !entry.name.startsWith("_") && !entry.name.startsWith("fake_")
      ) files.push(path);
    }
  };
  walk(folder);
  return files.sort();
}

/** The permissions the code in these files asks for, one entry per call site kind. */
export function findApiCalls(root: string, files: string[]): FoundCall[] {
  const classes = apiClasses();
  const found: FoundCall[] = [];
  for (const file of files) {
    // Long paths are often split over lines: "a" +\n "b" reads as "ab".
    const text = Deno.readTextFileSync(join(root, file)).replace(/["'`]\s*\+\s*["'`]/g, "");
    const imported = [...classes.keys()].filter((name) => new RegExp(`\\b${name}\\b`).test(text));
    const methods = new Set([...text.matchAll(/\.([a-zA-Z]+)\s*\(/g)].map((m) => m[1]));
    for (const method of methods) {
      const match = METHOD.exec(method);
      if (!match) continue;
      // The classes this file names that have the method; all classes if it names none.
      const owners = (imported.length > 0 ? imported : [...classes.keys()])
        .filter((name) => typeof classes.get(name)![method] === "function");
      for (const owner of owners) {
        const resource = resourceOf(match[3].replace(/ForAllNamespaces$/, ""));
        found.push({ file, call: method, group: groupOf(owner), resource, verb: VERBS[match[1]] });
      }
    }
    const watches = /\bnew\s+Watch\b|\.watch\s*\(/.test(text);
    const informs = /\bmakeInformer\s*\(/.test(text);
    if (!watches && !informs) continue;
    for (const literal of text.matchAll(/["'`](\/apis?\/[^"'`]*)["'`]/g)) {
      // A template literal's ${...} stands for one path segment here.
      const path = literal[1].replace(/\$\{[^}]*\}/g, "x");
      const target = pathResource(path);
      if (!target) continue;
      for (const verb of informs ? ["list", "watch"] : ["watch"]) {
        found.push({ file, call: literal[1], ...target, verb });
      }
    }
  }
  return found;
}

/** The permission a request to the API server needs, from its method and URL. */
export function requestPermission(method: string, url: string): Permission | undefined {
  const { pathname, searchParams } = new URL(url, "http://api.invalid");
  const target = pathResource(pathname);
  if (!target) return undefined;
  const rest = pathname.split(`/${target.resource}`)[1] ?? "";
  const [, name, sub] = rest.split("/");
  const resource = sub ? `${target.resource}/${sub}` : target.resource;
  const collection = name === undefined || name === "";
  const verb = method === "GET"
    ? collection ? (searchParams.get("watch") === "true" ? "watch" : "list") : "get"
    : ({ PATCH: "patch", PUT: "update", POST: "create", DELETE: "delete" } as Record<
      string,
      string
    >)[method];
  return verb ? { group: target.group, resource, verb } : undefined;
}

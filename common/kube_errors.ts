/**
 * How the Kubernetes clients (the autoscaler's scaler, the dispatcher's
 * EndpointSlice watcher) tell a request that never reached the API server
 * from one the server answered: the first is worth retrying as it is, the
 * second says what to fix.
 *
 * @module
 */

// Error codes of requests that did not reach, or got no answer from, the server.
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "EAI_AGAIN",
]);

/** Whether `code` (an error's `code`) means the request got no answer from the server. */
export function isUnreachableCode(code: unknown): code is string {
  return typeof code === "string" && UNREACHABLE.has(code);
}

/** Words for an unreachable `code`, e.g. "connection refused" for ECONNREFUSED. */
export function unreachableText(code: string): string {
  return code === "ECONNREFUSED" ? "connection refused" : code;
}

/**
 * Says what to do when a server cannot listen: the operating system's own
 * words ("Address already in use") name neither the address nor a way out.
 *
 * @module
 */

/** A message for a failure to listen on `host`:`port`. */
export function explainListenError(error: unknown, host: string, port: number): string {
  if (error instanceof Deno.errors.AddrInUse) {
    return `Cannot listen on ${host}:${port}: the port is taken by another process; stop it, ` +
      "or pass --port with another port (0 picks any free one)";
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return `Cannot listen on ${host}:${port}: this machine has no such address; pass --host ` +
      "with one of its addresses (127.0.0.1, or 0.0.0.0 for all)";
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return `Cannot listen on ${host}:${port}: permission denied (ports below 1024 need ` +
      "privileges); pass --port 1024 or above";
  }
  const text = (error as Error).message;
  if (/lookup address|Name or service not known|resolve/i.test(text)) {
    return `Cannot listen on ${host}:${port}: "${host}" is not an address or a known name; ` +
      "pass --host with an IP address such as 127.0.0.1";
  }
  return `Cannot listen on ${host}:${port}: ${text}`;
}

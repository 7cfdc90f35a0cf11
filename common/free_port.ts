/**
 * Port helpers for processes that start other servers on this machine.
 *
 * @module
 */

/**
 * Asks the kernel for a free TCP port on loopback. Another process can still
 * take it before it is used, so callers that can bind port 0 themselves should.
 */
export function freePort(hostname = "127.0.0.1"): number {
  const listener = Deno.listen({ hostname, port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** True when nothing listens on `port` of `hostname`, so binding it would succeed. */
export function portIsFree(port: number, hostname = "127.0.0.1"): boolean {
  try {
    Deno.listen({ hostname, port }).close();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) return false;
    throw error;
  }
}

/**
 * Gives freed native memory back to the operating system. ONNX Runtime frees
 * tens of megabytes after it optimizes a model at load time, and decoders
 * free image buffers all the time, but glibc's allocator keeps freed pages
 * mapped: the replica's resident memory then stays near its peak, which is
 * what a container's memory limit and the scheduler see. `malloc_trim(0)`
 * returns those pages. Only glibc has it; elsewhere this does nothing.
 *
 * @module
 */

/** Calls `malloc_trim(0)`; undefined when the C library has no such function. */
export type Trim = () => void;

/** Binds `malloc_trim` from glibc, or returns undefined (musl, macOS, no FFI permission). */
export function bindMallocTrim(): Trim | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    const libc = Deno.dlopen("libc.so.6", {
      malloc_trim: { parameters: ["usize"], result: "i32" },
    });
    return () => void libc.symbols.malloc_trim(0n);
  } catch {
    return undefined;
  }
}

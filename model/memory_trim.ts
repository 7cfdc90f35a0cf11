/**
 * Gives memory back to the operating system. Two things keep a replica's
 * resident set far above its working set:
 * - V8 frees the buffers of finished requests (bodies, pixels, tensors: over
 *   a megabyte per image, most of it outside the JavaScript heap) only when a
 *   garbage collection runs, and a small heap rarely triggers one;
 * - glibc keeps freed pages mapped (ONNX Runtime frees tens of megabytes
 *   after optimising the graph at load), which `malloc_trim(0)` returns.
 * A periodic collection followed by a trim keeps resident memory near the
 * working set; both take a few milliseconds.
 *
 * @module
 */

import v8 from "node:v8";
import vm from "node:vm";

/** Frees what it can; does nothing where neither mechanism exists. */
export type Trim = () => void;

/** A full garbage collection of the calling isolate, when V8 lets us ask for one. */
export function bindCollectGarbage(): (() => void) | undefined {
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc");
    return typeof gc === "function" ? () => gc() : undefined;
  } catch {
    return undefined;
  }
}

/** `malloc_trim(0)` from glibc; undefined elsewhere (musl, macOS) or without FFI permission. */
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

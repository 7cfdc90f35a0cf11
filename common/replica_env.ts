/**
 * Environment every replica process should start with. glibc gives each
 * thread that allocates its own malloc arena, up to eight per core; ONNX
 * Runtime's threads, libuv's pool and the decoder then each keep tens of
 * megabytes of freed memory mapped. Two arenas cost no measurable speed here
 * and keep resident memory near the working set. It must be set before the
 * process starts, so whatever launches replicas (the local scaler, the
 * benchmarks, the Kubernetes manifest) sets it.
 *
 * @module
 */

/** Variables merged into a replica's environment. */
export const REPLICA_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: "2" };

/**
 * How many CPUs this process may really use. In a container the kernel's CPU
 * quota (cgroup `cpu.max`), not the host's core count, decides: a pod limited
 * to one CPU that starts one ONNX Runtime thread per host core is throttled
 * every scheduling period.
 *
 * @module
 */

/** The answer and where it came from, for the start-up log. */
export interface CpuBudget {
  cpus: number;
  source: string;
}

/** Reads a file's text, or undefined when it does not exist; injectable for tests. */
export type ReadText = (path: string) => string | undefined;

function readTextSync(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The CPUs available: the cgroup v2 quota, else the cgroup v1 quota, else the
 * cores the runtime reports; never more than the cores, never less than 1.
 */
export function cpuBudget(
  cores = navigator.hardwareConcurrency,
  read: ReadText = readTextSync,
): CpuBudget {
  const quota = cgroupV2Quota(read) ?? cgroupV1Quota(read);
  if (quota !== undefined && quota.cpus < cores) {
    return { cpus: Math.max(1, Math.ceil(quota.cpus)), source: quota.source };
  }
  return { cpus: Math.max(1, cores), source: "cores" };
}

function cgroupV2Quota(read: ReadText) {
  const text = read("/sys/fs/cgroup/cpu.max");
  if (text === undefined) return undefined;
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === "max") return undefined;
  const cpus = Number(quota) / Number(period);
  return Number.isFinite(cpus) && cpus > 0 ? { cpus, source: "cgroup cpu.max" } : undefined;
}

function cgroupV1Quota(read: ReadText) {
  const quota = Number(read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")?.trim());
  const period = Number(read("/sys/fs/cgroup/cpu/cpu.cfs_period_us")?.trim());
  if (!(quota > 0) || !(period > 0)) return undefined;
  return { cpus: quota / period, source: "cgroup cpu.cfs_quota_us" };
}

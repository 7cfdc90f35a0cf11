import assert from "node:assert/strict";
import { cpuBudget } from "./cpu_budget.ts";

const files = (map: Record<string, string>) => (path: string) => map[path];

Deno.test("cpuBudget uses the host cores without a quota", () => {
  assert.deepEqual(cpuBudget(8, files({})), { cpus: 8, source: "cores" });
  assert.deepEqual(
    cpuBudget(8, files({ "/sys/fs/cgroup/cpu.max": "max 100000\n" })),
    { cpus: 8, source: "cores" },
  );
});

Deno.test("cpuBudget follows a cgroup v2 quota, rounding a fraction up", () => {
  assert.deepEqual(
    cpuBudget(16, files({ "/sys/fs/cgroup/cpu.max": "200000 100000\n" })),
    { cpus: 2, source: "cgroup cpu.max" },
  );
  assert.equal(cpuBudget(16, files({ "/sys/fs/cgroup/cpu.max": "150000 100000" })).cpus, 2);
  assert.equal(cpuBudget(16, files({ "/sys/fs/cgroup/cpu.max": "50000 100000" })).cpus, 1);
});

Deno.test("cpuBudget follows a cgroup v1 quota", () => {
  const read = files({
    "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "100000\n",
    "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
  });
  assert.deepEqual(cpuBudget(4, read), { cpus: 1, source: "cgroup cpu.cfs_quota_us" });
  const unlimited = files({
    "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1",
    "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000",
  });
  assert.equal(cpuBudget(4, unlimited).source, "cores");
});

Deno.test("cpuBudget never exceeds the cores and ignores garbage", () => {
  assert.equal(cpuBudget(2, files({ "/sys/fs/cgroup/cpu.max": "800000 100000" })).cpus, 2);
  assert.equal(cpuBudget(2, files({ "/sys/fs/cgroup/cpu.max": "lots of" })).source, "cores");
});

import assert from "node:assert/strict";
import {
  type Admission,
  ENTRY_OVERHEAD_BYTES,
  ResultStore,
  type ResultStoreOptions,
  type StoreCounts,
} from "./result_store.ts";

/** A store on a clock the test moves by hand, with no background sweep. */
function manual(options: ResultStoreOptions = {}) {
  const clock = { now: 1_000_000 };
  const store = new ResultStore({ sweepIntervalMs: 0, now: () => clock.now, ...options });
  return { clock, store };
}

function admitted(admission: Admission): { id: string; signal: AbortSignal } {
  assert.ok(admission.ok, `expected admission, got ${JSON.stringify(admission)}`);
  return admission;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

Deno.test("ResultStore keeps a job pending, then done, with random ids", () => {
  const { store } = manual();
  const { id, signal } = admitted(store.open());
  const other = admitted(store.open());
  assert.match(id, UUID);
  assert.notEqual(id, other.id);
  assert.deepEqual(store.get(id), { id, status: "pending" });

  assert.equal(store.complete(id, '{"label":"tabby"}', 17), true);
  assert.deepEqual(store.get(id), { id, status: "done", resultJson: '{"label":"tabby"}' });
  assert.equal(signal.aborted, false);
  assert.deepEqual(store.counts(), {
    pending: 1,
    done: 1,
    failed: 0,
    bytes: 17 + ENTRY_OVERHEAD_BYTES + store.maxResultBytes + ENTRY_OVERHEAD_BYTES,
  });
  // A second outcome for the same job is ignored.
  assert.equal(store.fail(id, { status: 500, code: "x", message: "late" }), false);
  assert.equal(store.get(id)?.status, "done");
  store.close();
});

Deno.test("ResultStore records a failure with its status, code and message", () => {
  const { store } = manual();
  const { id, signal } = admitted(store.open());
  const error = { status: 503, code: "no_replica", message: "No replica could take it" };
  assert.equal(store.fail(id, error), true);
  assert.deepEqual(store.get(id), { id, status: "failed", error });
  assert.equal(signal.aborted, true);
  assert.equal(store.counts().failed, 1);
  assert.equal(store.get("00000000-0000-4000-8000-000000000000"), undefined);
  store.close();
});

Deno.test("ResultStore forgets a finished job once its TTL after finishing has passed", () => {
  const { clock, store } = manual({ ttlMs: 1000, pendingTimeoutMs: 60_000 });
  const { id } = admitted(store.open());
  clock.now += 5000; // pending time does not count towards the TTL
  store.complete(id, "{}", 2);
  clock.now += 999;
  assert.equal(store.get(id)?.status, "done");
  clock.now += 1;
  assert.equal(store.get(id), undefined);
  assert.deepEqual(store.counts(), { pending: 0, done: 0, failed: 0, bytes: 0 });
  store.close();
});

Deno.test("ResultStore fails a job pending past its deadline and aborts its signal", () => {
  const { clock, store } = manual({ ttlMs: 1000, pendingTimeoutMs: 500 });
  const { id, signal } = admitted(store.open());
  clock.now += 250;
  const later = admitted(store.open());
  clock.now += 250;
  const view = store.get(id);
  assert.equal(view?.status, "failed");
  assert.equal(view.status === "failed" && view.error.status, 504);
  assert.equal(view.status === "failed" && view.error.code, "pending_timeout");
  assert.equal(signal.aborted, true);
  assert.equal(store.get(later.id)?.status, "pending");
  assert.equal(store.complete(id, "{}", 2), false);

  // The failure itself is kept for the TTL, so a late poll learns the reason.
  clock.now += 999;
  assert.equal(store.get(id)?.status, "failed");
  clock.now += 1;
  assert.equal(store.get(id), undefined);
  store.close();
});

Deno.test("ResultStore asks the job for its timeout message but keeps 504 pending_timeout", () => {
  const { clock, store } = manual({ pendingTimeoutMs: 500 });
  let asked = 0;
  const { id } = admitted(store.open(() => {
    asked++;
    return { status: 500, code: "other", message: "it was in the queue" };
  }));
  const plain = admitted(store.open());
  clock.now += 499;
  store.sweep();
  assert.equal(asked, 0);
  clock.now += 1;
  const view = store.get(id);
  assert.deepEqual(view?.status === "failed" && view.error, {
    status: 504,
    code: "pending_timeout",
    message: "it was in the queue",
  });
  assert.equal(asked, 1);
  const other = store.get(plain.id);
  assert.match(
    other?.status === "failed" ? other.error.message : "",
    /^Cannot finish the job within --pending-timeout \(500 ms\); enqueue fewer jobs/,
  );
  store.close();
});

Deno.test("ResultStore refuses past maxEntries and takes jobs again once entries expire", () => {
  const { clock, store } = manual({ maxEntries: 2, ttlMs: 10_000 });
  const first = admitted(store.open());
  const second = admitted(store.open());
  store.complete(first.id, "{}", 2);
  clock.now += 4000;
  store.complete(second.id, "{}", 2);

  const refused = store.open();
  assert.deepEqual(refused, { ok: false, bound: "entries", limit: 2, retryAfterSeconds: 6 });
  assert.deepEqual(store.check(), refused);

  clock.now += 6000; // the first entry expires; the second is still kept
  const third = admitted(store.open());
  assert.equal(store.get(second.id)?.status, "done");
  assert.equal(store.get(third.id)?.status, "pending");
  store.close();
});

Deno.test("ResultStore never evicts a pending job to make room", () => {
  const { clock, store } = manual({ maxEntries: 2, ttlMs: 1000, pendingTimeoutMs: 60_000 });
  const jobs = [admitted(store.open()), admitted(store.open())];
  clock.now += 30_000;
  const refused = store.open();
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.bound, "entries");
  // With nothing finished, a slot frees one TTL after a job finishes at the earliest.
  assert.equal(!refused.ok && refused.retryAfterSeconds, 1);
  for (const job of jobs) assert.equal(store.get(job.id)?.status, "pending");
  store.close();
});

Deno.test("ResultStore reserves maxResultBytes per pending job, shrunk when it finishes", () => {
  const per = 1000 + ENTRY_OVERHEAD_BYTES;
  const limit = 2 * per + 300;
  const { store } = manual({ maxResultBytes: 1000, maxBytes: limit });
  const first = admitted(store.open());
  admitted(store.open());
  const refused = store.open();
  assert.deepEqual(refused, { ok: false, bound: "bytes", limit, retryAfterSeconds: 1 });

  // The finished job now holds 7 + 256 bytes instead of 1256: room for one more.
  store.complete(first.id, '"small"', 7);
  assert.equal(store.counts().bytes, per + 7 + ENTRY_OVERHEAD_BYTES);
  admitted(store.open());
  assert.equal(store.open().ok, false);
  assert.throws(
    () => store.complete(first.id, "x", 1001),
    (error: unknown) => error instanceof RangeError && /limit is 1000/.test(error.message),
  );
  store.close();
});

Deno.test("ResultStore.close fails pending jobs, aborts them and refuses new ones", () => {
  const counts: StoreCounts[] = [];
  const { store } = manual({ onChange: (c) => counts.push(c) });
  const { id, signal } = admitted(store.open());
  store.close();
  assert.equal(signal.aborted, true);
  const view = store.get(id);
  assert.equal(view?.status === "failed" && view.error.code, "shutting_down");
  assert.deepEqual(store.open(), { ok: false, bound: "closed", limit: 0, retryAfterSeconds: 1 });
  assert.deepEqual(counts.at(-1), {
    pending: 0,
    done: 0,
    failed: 1,
    bytes: view?.status === "failed"
      ? view.error.code.length + view.error.message.length + ENTRY_OVERHEAD_BYTES
      : -1,
  });
});

Deno.test("ResultStore sweeps on its interval without any access", async () => {
  const clock = { now: 0 };
  const swept = Promise.withResolvers<StoreCounts>();
  let armed = false;
  const store = new ResultStore({
    ttlMs: 100,
    sweepIntervalMs: 5,
    now: () => clock.now,
    onChange: (counts) => {
      if (armed && counts.done === 0) swept.resolve(counts);
    },
  });
  try {
    const { id } = admitted(store.open());
    store.complete(id, "{}", 2);
    armed = true;
    clock.now += 100;
    // Resolved by the interval's sweep, the only code that can run here; the
    // timer only turns a broken sweep into a failure instead of a hang.
    const timer = setTimeout(() => swept.reject(new Error("No sweep within 5 s")), 5000);
    try {
      assert.deepEqual(await swept.promise, { pending: 0, done: 0, failed: 0, bytes: 0 });
    } finally {
      clearTimeout(timer);
    }
  } finally {
    store.close();
  }
});

Deno.test("ResultStore rejects options out of range, naming them", () => {
  assert.throws(() => new ResultStore({ maxEntries: 0 }), /maxEntries must be >= 1, got 0/);
  assert.throws(() => new ResultStore({ ttlMs: Number.NaN }), /ttlMs must be >= 1, got NaN/);
  assert.throws(
    () => new ResultStore({ maxResultBytes: 1000, maxBytes: 1000 }),
    /maxBytes must be >= 1256, got 1000/,
  );
});

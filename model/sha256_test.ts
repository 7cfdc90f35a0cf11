import assert from "node:assert/strict";
import { sha256File, sha256Hex } from "./sha256.ts";

Deno.test("sha256Hex() matches the FIPS 180-2 test vector for 'abc'", () => {
  assert.equal(
    sha256Hex(new TextEncoder().encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("sha256File() hashes a many-chunk file as sha256Hex() hashes its bytes", async () => {
  const bytes = new Uint8Array(1_000_003).map((_, index) => (index * 31) % 251);
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, bytes);
    assert.deepEqual(await sha256File(path), { sha256: sha256Hex(bytes), bytes: bytes.length });
  } finally {
    await Deno.remove(path);
  }
});

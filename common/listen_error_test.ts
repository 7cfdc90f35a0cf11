import assert from "node:assert/strict";
import { explainListenError } from "./listen_error.ts";

Deno.test("explainListenError names the address and the way out of a taken port", () => {
  const holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (holder.addr as Deno.NetAddr).port;
  try {
    Deno.listen({ hostname: "127.0.0.1", port });
    assert.fail("expected the port to be taken");
  } catch (error) {
    const message = explainListenError(error, "127.0.0.1", port);
    assert.match(message, new RegExp(`127\\.0\\.0\\.1:${port}: the port is taken`));
    assert.match(message, /--port/);
  } finally {
    holder.close();
  }
});

Deno.test("explainListenError explains a host that is not an address", () => {
  try {
    Deno.listen({ hostname: "0.0.0.0.0", port: 0 });
    assert.fail("expected a bad host to fail");
  } catch (error) {
    assert.match(explainListenError(error, "0.0.0.0.0", 0), /not an address.*--host/);
  }
});

/**
 * Hundreds of good and bad uploads mixed, at once: every answer keeps the
 * contract (200 with predictions, or a 4xx JSON refusal, or 503 when busy),
 * and the replica answers the same photo the same way afterwards.
 */

import assert from "node:assert/strict";
import { createLogger } from "@common/log.ts";
import { sharedImages } from "@common/shared_images.ts";
import { mixedUploads, soak } from "./bench/mixed_inputs.ts";
import { Classifier } from "./classifier.ts";
import { parseConfig } from "./config.ts";
import { startModelService } from "./server.ts";
import { sharedImage, testModelPath } from "./_test_model.ts";

Deno.test("a mixed soak of good and bad uploads leaves the replica answering right", async () => {
  const classifier = await Classifier.load(await testModelPath(), 2);
  const config = parseConfig(["--port", "0", "--max-queue", "64"], {}, () => false);
  const logger = createLogger({ component: "soak-test", level: "error" });
  const service = await startModelService(config, { logger, classifier });
  const photo = await sharedImage("imagenet-sample/n01440764_tench.JPEG");
  const classify = async () => {
    const response = await fetch(`${service.url}/infer`, {
      method: "POST",
      body: photo,
      headers: { "content-type": "image/jpeg" },
    });
    return (await response.json()).predictions;
  };
  try {
    const before = await classify();
    const uploads = await mixedUploads(sharedImages(), 400);
    const tally = await soak(`${service.url}/infer`, uploads, 8);
    assert.deepEqual(tally.violations, []);
    assert.equal(tally.sent, 400);
    assert.ok((tally.byStatus[200] ?? 0) > 50, JSON.stringify(tally.byStatus));
    assert.ok((tally.byStatus[400] ?? 0) > 50, JSON.stringify(tally.byStatus));
    assert.deepEqual(await classify(), before);
  } finally {
    await service.shutdown();
    await classifier.close();
  }
});

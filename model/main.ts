/**
 * Entry point of `deno task model:serve`: one model replica. Reads settings,
 * serves until SIGTERM, SIGINT or (with --exit-with-parent) the end of stdin,
 * then drains the requests it admitted and exits 0.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { createLogger } from "@common/log.ts";
import { settingsOrExit } from "@common/settings.ts";
import { onShutdown } from "@common/shutdown.ts";
import { parseConfig, USAGE } from "./config.ts";
import { startModelService } from "./server.ts";

const config = settingsOrExit(
  Deno.args,
  USAGE,
  () => parseConfig(Deno.args, Deno.env.toObject(), existsSync),
);

const logger = createLogger({ component: "model", level: config.logLevel });
const stopped = Promise.withResolvers<string>();
onShutdown((cause) => stopped.resolve(cause), { exitWithParent: config.exitWithParent });

let service;
try {
  service = await startModelService(config, { logger });
} catch (error) {
  logger.error((error as Error).message, { model: config.modelPath });
  Deno.exit(1);
}

const cause = await stopped.promise;
logger.info("stopping; finishing admitted requests", { cause });
await service.shutdown();
logger.info("stopped");
Deno.exit(0);

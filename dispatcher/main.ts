/**
 * Entry point of `deno task dispatcher`: reads settings, starts the dispatcher
 * and shuts it down gracefully on SIGTERM, SIGINT or (with --exit-with-parent)
 * the end of stdin.
 *
 * @module
 */

import { createLogger } from "@common/log.ts";
import { settingsOrExit } from "@common/settings.ts";
import { onShutdown } from "@common/shutdown.ts";
import { parseConfig, USAGE } from "./config.ts";
import { startDispatcher } from "./server.ts";

const config = settingsOrExit(Deno.args, USAGE, () => parseConfig(Deno.args, Deno.env.toObject()));

const logger = createLogger({ component: "dispatcher", level: config.logLevel });
let dispatcher;
try {
  dispatcher = await startDispatcher(config, { logger });
} catch (error) {
  logger.error((error as Error).message, { host: config.host, port: config.port });
  Deno.exit(1);
}

const stopped = Promise.withResolvers<string>();
onShutdown((cause) => stopped.resolve(cause), { exitWithParent: config.exitWithParent });
const cause = await stopped.promise;
logger.info("stopping; finishing requests in flight", { cause });
await dispatcher.shutdown();
logger.info("stopped");
Deno.exit(0);

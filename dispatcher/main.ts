/**
 * Entry point of `deno task dispatcher`: reads settings, starts the dispatcher
 * and shuts it down gracefully on SIGTERM, SIGINT or (with --exit-with-parent)
 * the end of stdin.
 *
 * @module
 */

import { createLogger } from "@common/log.ts";
import { onShutdown } from "@common/shutdown.ts";
import { ConfigError, parseConfig, USAGE } from "./config.ts";
import { startDispatcher } from "./server.ts";

if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  // deno-lint-ignore no-console
  console.log(USAGE);
  Deno.exit(0);
}

let config;
try {
  config = parseConfig(Deno.args, Deno.env.toObject());
} catch (error) {
  const text = error instanceof ConfigError ? error.message : (error as Error).message;
  // deno-lint-ignore no-console
  console.error(`${text}\nRun with --help for the list of flags.`);
  Deno.exit(2);
}

const logger = createLogger({ component: "dispatcher", level: config.logLevel });
let dispatcher;
try {
  dispatcher = await startDispatcher(config, { logger });
} catch (error) {
  logger.error("cannot start", { error, host: config.host, port: config.port });
  Deno.exit(1);
}

const stopped = Promise.withResolvers<string>();
onShutdown((cause) => stopped.resolve(cause), { exitWithParent: config.exitWithParent });
const cause = await stopped.promise;
logger.info("stopping; finishing requests in flight", { cause });
await dispatcher.shutdown();
logger.info("stopped");
Deno.exit(0);

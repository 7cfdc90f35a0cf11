/**
 * Entry point of `deno task model:fetch`: downloads the real, pretrained
 * ResNet18 v1 from the ONNX Model Zoo and saves it only after its size and
 * SHA-256 match the published ones. A file already in place that matches is
 * kept without touching the network.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { createLogger } from "@common/log.ts";
import { onShutdown } from "@common/shutdown.ts";
import { fetchModel, FetchModelError, type FetchProgress } from "./fetch_model.ts";
import { RESNET18_V1 } from "./known_models.ts";
import { sha256File } from "./sha256.ts";

const DEFAULT_OUT = `models/${RESNET18_V1.fileName}`;
const DEFAULT_TIMEOUT_S = 120;
const MAX_TIMEOUT_S = 3600;

const USAGE = `Usage: deno task model:fetch [flags]

Downloads the pretrained ResNet18 v1 (${RESNET18_V1.bytes} bytes) and verifies it.
Without internet access, \`deno task model:synthetic\` builds offline weights instead.

  --out FILE      where to save it, relative to the current directory
                  [${DEFAULT_OUT}]
  --url URL       download from here instead (a mirror of the same file)
  --sha256 HEX    expected SHA-256 instead of the published one; the size is then
                  not checked [${RESNET18_V1.sha256.slice(0, 16)}...]
  --timeout S     seconds to wait for the connection or for more data
                  [${DEFAULT_TIMEOUT_S}]
  --help          show this text`;

function exitWithUsage(problem: string): never {
  // deno-lint-ignore no-console
  console.error(`${problem}\n\n${USAGE}`);
  Deno.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    args: Deno.args,
    strict: true,
    options: {
      out: { type: "string" },
      url: { type: "string" },
      sha256: { type: "string" },
      timeout: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  }));
} catch (error) {
  exitWithUsage((error as Error).message);
}
if (values.help) {
  // deno-lint-ignore no-console
  console.log(USAGE);
  Deno.exit(0);
}

const problems: string[] = [];
const url = values.url ?? RESNET18_V1.url;
if (!/^https?:\/\/[^/]/i.test(url) || !URL.canParse(url)) {
  problems.push(`--url must be an http or https URL, got "${url}"`);
}
const sha256 = (values.sha256 ?? RESNET18_V1.sha256).toLowerCase();
if (!/^[0-9a-f]{64}$/.test(sha256)) {
  problems.push(`--sha256 must be 64 hex digits, got "${values.sha256}"`);
}
// A different checksum means a different file, whose size is not published here.
const expectedBytes = values.sha256 === undefined ? RESNET18_V1.bytes : undefined;
const timeoutText = values.timeout ?? String(DEFAULT_TIMEOUT_S);
const timeoutS = Number(timeoutText);
if (timeoutText.trim() === "" || !(timeoutS > 0 && timeoutS <= MAX_TIMEOUT_S)) {
  problems.push(
    `--timeout must be seconds above 0 and at most ${MAX_TIMEOUT_S}, got "${timeoutText}"`,
  );
}
if (values.out !== undefined && values.out.trim() === "") problems.push("--out must not be empty");
if (problems.length > 0) exitWithUsage(problems.join("\n"));
const out = resolve(values.out ?? DEFAULT_OUT);

const logger = createLogger({ component: "model-fetch" });

// Step 1: a verified file already in place needs no download.
const existing = await sha256File(out).catch(() => undefined);
if (existing?.sha256 === sha256 && (expectedBytes ?? existing.bytes) === existing.bytes) {
  logger.info("model already present and verified; nothing to download", {
    path: out,
    bytes: existing.bytes,
    sha256,
  });
  Deno.exit(0);
}
if (existing) {
  logger.warn("the file in place does not match the expected checksum; downloading it again", {
    path: out,
    sha256: existing.sha256,
    expected_sha256: sha256,
  });
}

// Step 2: download, verify and move into place; Ctrl-C cleans up the partial file.
logger.info("downloading", { url, path: out, total_bytes: expectedBytes, timeout_s: timeoutS });
const cancel = new AbortController();
const stopListening = onShutdown(() => cancel.abort());
try {
  const result = await fetchModel({
    url,
    outPath: out,
    sha256,
    bytes: expectedBytes,
    timeoutMs: timeoutS * 1000,
    onProgress: (progress) => logger.info("downloading", progressFields(progress)),
    signal: cancel.signal,
  });
  logger.info("saved verified model", {
    path: result.path,
    bytes: result.bytes,
    sha256: result.sha256,
    seconds: Number((result.elapsedMs / 1000).toFixed(1)),
  });
} catch (error) {
  report(error);
  Deno.exit(1);
} finally {
  stopListening();
}

function progressFields({ receivedBytes, totalBytes, elapsedMs }: FetchProgress) {
  return {
    received_bytes: receivedBytes,
    total_bytes: totalBytes,
    percent: totalBytes ? Number(((receivedBytes * 100) / totalBytes).toFixed(1)) : undefined,
    bytes_per_second: elapsedMs > 0 ? Math.round((receivedBytes * 1000) / elapsedMs) : undefined,
  };
}

function report(error: unknown): void {
  if (!(error instanceof FetchModelError)) {
    logger.error("cannot save the model", {
      path: out,
      error,
      hint: "check that the directory is writable, or choose another path with --out",
    });
    return;
  }
  const fields = { url, error: error.message };
  switch (error.reason) {
    case "network":
    case "timeout":
      logger.error("cannot download the model; this machine may be offline", {
        ...fields,
        hint: "`deno task model:synthetic` builds offline weights " +
          "(same cost to run, meaningless predictions)",
      });
      return;
    case "http":
      logger.error("cannot download the model: the server refused", {
        ...fields,
        status: error.status,
        hint: "the file may have moved; pass --url with an address of the same file",
      });
      return;
    case "size":
    case "checksum":
      logger.error(`downloaded file has the wrong ${error.reason}; it was deleted`, {
        ...fields,
        expected: error.expected,
        actual: error.actual,
        hint: "the server sent a different file (truncated, changed, or an error page); " +
          "try again, or pass --url with a mirror of the published file",
      });
      return;
    case "aborted":
      logger.warn("download cancelled; nothing was saved", fields);
      return;
  }
}

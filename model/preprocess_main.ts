/**
 * Entry point of `deno task preprocess IMAGE --out FILE`: writes the float32
 * tensor (3 x 224 x 224, channels first, little endian) that the service would
 * feed the model for IMAGE, so anyone can compare it with a reference.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { HttpError } from "@common/http_error.ts";
import { chooseDecoder, DECODER_CHOICES, type DecoderChoice } from "./choose_decoder.ts";
import { decodeImage } from "./decode.ts";
import { preprocess } from "./preprocess.ts";

const USAGE = `Usage: deno task preprocess IMAGE --out FILE [--decoder NAME] [--max-pixels N]

Writes the model input for IMAGE: float32 little endian, shape [3, 224, 224] (CHW),
normalised with the ImageNet mean and standard deviation.`;

// deno-lint-ignore no-console
const fail = (message: string, code: number) => (console.error(message), Deno.exit(code));

let parsed;
try {
  parsed = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      "max-pixels": { type: "string", default: "40000000" },
      decoder: { type: "string", default: "auto" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
} catch (error) {
  fail(`${(error as Error).message}\n\n${USAGE}`, 2);
}
const { values, positionals } = parsed!;
if (values.help) {
  // deno-lint-ignore no-console
  console.log(USAGE);
  Deno.exit(0);
}
if (positionals.length !== 1 || !values.out) {
  fail(`Expected one IMAGE and --out FILE\n\n${USAGE}`, 2);
}
if (!DECODER_CHOICES.includes(values.decoder as DecoderChoice)) {
  fail(`--decoder must be one of ${DECODER_CHOICES.join(", ")}, got "${values.decoder}"`, 2);
}

try {
  const { decoder } = await chooseDecoder(values.decoder as DecoderChoice);
  const pixels = await decodeImage(
    await Deno.readFile(positionals[0]),
    Number(values["max-pixels"]),
    decoder,
  );
  const tensor = preprocess(pixels);
  // Float32Array uses the platform's byte order; every platform Deno runs on is little endian.
  await Deno.writeFile(values.out!, new Uint8Array(tensor.buffer));
} catch (error) {
  const message = error instanceof HttpError ? error.message : (error as Error).message;
  fail(`Cannot preprocess ${positionals[0]}: ${message}`, 1);
}

/**
 * Reads the two request headers that limit what a request may cost before
 * its body is read: the declared length and the client's deadline.
 *
 * @module
 */

import { HttpError } from "@common/http_error.ts";

/**
 * The body length a Content-Length header declares, or undefined when it
 * declares none the dispatcher can trust (the body is then counted while it
 * is read). Deno's server already refuses with 400 a sign, hex, an exponent,
 * a negative number and two different values; it passes a repeated equal
 * value on as a list (`"5, 5"`), which counts as that value here.
 */
export function declaredLength(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const values = header.split(",").map((part) => part.trim());
  if (!values.every((value) => /^\d+$/.test(value) && value === values[0])) return undefined;
  return Number(values[0]);
}

/**
 * The deadline a client asks for in `x-deadline-ms`: whole milliseconds from
 * 1 up; undefined when the header is absent.
 *
 * @throws {HttpError} 400 `bad_deadline` for any other value
 */
export function requestedDeadline(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d{1,9}$/.test(text) && Number(text) >= 1) return Number(text);
  throw new HttpError(
    400,
    "bad_deadline",
    `Cannot use header x-deadline-ms: expected whole milliseconds from 1 to 999999999, got ` +
      `"${header}"`,
    { accepted: ["x-deadline-ms: a whole number of milliseconds, e.g. 2000"] },
  );
}

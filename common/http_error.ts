/**
 * The one error type that every HTTP handler throws for a request it refuses,
 * and the JSON body clients receive for it.
 *
 * @module
 */

/** Body of every error answer: what went wrong and, where it helps, what is accepted. */
export interface ErrorBody {
  error: string;
  message: string;
  accepted?: string[];
}

/** A refusal with an HTTP status, a stable machine-readable code and a message. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly accepted?: string[];
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { accepted?: string[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "HttpError";
    this.status = status;
    this.code = code;
    this.accepted = options.accepted;
    this.headers = options.headers ?? {};
  }

  /** The JSON body for this error. */
  body(): ErrorBody {
    const body: ErrorBody = { error: this.code, message: this.message };
    if (this.accepted) body.accepted = this.accepted;
    return body;
  }

  /** A complete response for this error. */
  response(): Response {
    return Response.json(this.body(), { status: this.status, headers: this.headers });
  }
}

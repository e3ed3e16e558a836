/**
 * The gateway's one code-to-status map. Every error a client sees is
 * `{"error":{"code","message"}}`; 5xx messages are fixed texts, so internals
 * never reach a client.
 */

/** Status of every error code the gateway sends. */
export const ERROR_STATUS = {
  INVALID_INPUT: 400,
  BAD_JSON: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  RATE_LIMITED: 429,
  CONCURRENCY_LIMIT: 429,
  FUNCTION_FAILED: 500,
  INTERNAL: 500,
  BAD_GATEWAY: 502,
  QUEUE_FULL: 503,
  NO_HEALTHY_BACKEND: 503,
  LIMITER_UNAVAILABLE: 503,
  MODEL_UNAVAILABLE: 503,
  GATEWAY_TIMEOUT: 504,
} as const;

/** A stable error code. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** An error meant for a client: a code, a safe message, and optional headers. */
export class ServingError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ServingError";
  }

  /** HTTP status from the one map. */
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

const SAFE_5XX: Partial<Record<ErrorCode, string>> = {
  FUNCTION_FAILED: "the function failed; see the gateway log for this request id",
  INTERNAL: "internal error; see the gateway log for this request id",
};

/** The status, headers and JSON body to send for any thrown value. */
export function toErrorResponse(error: unknown): {
  status: number;
  headers: Record<string, string>;
  body: { error: { code: ErrorCode; message: string } };
} {
  const known = error instanceof ServingError ? error : new ServingError("INTERNAL", "internal error");
  const message = SAFE_5XX[known.code] ?? known.message;
  return { status: known.status, headers: known.headers, body: { error: { code: known.code, message } } };
}

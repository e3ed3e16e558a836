/**
 * One attempt of an asynchronous job on the in-process runtime: the job's
 * call through the same entry call the pod server and the local gateway use,
 * bounded by the entry's attempt timeout. What comes back is either the
 * entry's answer (below 500: the invocation's result, never retried) or an
 * AttemptFailure carrying the code and safe message the invocation records.
 */
import { ServingError, toErrorResponse, type AsyncJob, type InvocationResult } from "../contract";
import { callEntry } from "../entry-call";
import type { LocalRuntime } from "../runtime";

/** A failed attempt: retried while attempts remain. `code` and `message` are safe to show the submitting client. */
export class AttemptFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "AttemptFailure";
  }

  /** The failure a thrown value becomes: its error-contract code and safe text (5xx internals stay in the cause). */
  static of(error: unknown): AttemptFailure {
    if (error instanceof AttemptFailure) return error;
    const { body } = toErrorResponse(error);
    return new AttemptFailure(body.error.code, body.error.message, { cause: error });
  }
}

/** Runs `promise` for at most `ms`; past it, rejects with INVOCATION_TIMEOUT (the call itself cannot be cancelled and finishes unobserved). */
export function withinTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new AttemptFailure("INVOCATION_TIMEOUT", `the attempt ran longer than ${ms} ms`)), ms);
  });
  // The late answer of a timed-out call is nobody's to see.
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A body as JSON when it is JSON, else as text (null when empty). */
export function parsedBody(body: Buffer): unknown {
  if (body.length === 0) return null;
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return body.toString("utf8");
  }
}

/**
 * Runs one attempt of `job` on `runtime`. Resolves with the entry's answer
 * when it is below 500 (a 4xx, such as a refused input, fails the same way
 * every time, so it is a result, not a retry); rejects with AttemptFailure for
 * a 5xx, a thrown error or a timeout.
 */
export async function runAttempt(runtime: LocalRuntime, job: AsyncJob, timeoutMs: number): Promise<InvocationResult> {
  let response;
  try {
    response = await withinTimeout(
      callEntry(runtime, job.kind, job.entry, job.region, {
        method: job.request.method,
        path: job.request.path,
        headers: job.request.headers,
        query: job.request.query,
        body: Buffer.from(job.request.body, "base64"),
        requestId: job.id,
      }),
      timeoutMs,
    );
  } catch (error) {
    if (error instanceof ServingError && error.status < 500) {
      const { status, body } = toErrorResponse(error);
      return { status, body };
    }
    throw AttemptFailure.of(error);
  }
  const body = parsedBody(response.body);
  if (response.status >= 500) throw answerFailure(job, response.status, body, "the worker's log");
  return { status: response.status, body };
}

/**
 * The failure a 5xx answer of `job`'s entry is: the code the answer's error
 * names (its error-contract body), else FUNCTION_FAILED or MODEL_FAILED, with
 * a safe message pointing at `log` for the invocation.
 */
export function answerFailure(job: Pick<AsyncJob, "id" | "kind" | "entry">, status: number, body: unknown, log: string): AttemptFailure {
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  return new AttemptFailure(
    typeof code === "string" ? code : job.kind === "model" ? "MODEL_FAILED" : "FUNCTION_FAILED",
    `${job.kind} ${job.entry} answered ${status}; see ${log} for invocation ${job.id}`,
  );
}

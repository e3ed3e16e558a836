/**
 * A model client for a function whose model runs in another process (a
 * model-server pod, or a cloud endpoint): it posts one sample to the
 * model's predict endpoint. Keep-alive connections come from undici's
 * global dispatcher.
 *
 * A model whose policy holds requests (`hold`) may be at zero or starting:
 * a refused connection or a 503 then means "not ready yet", and the call is
 * retried with backoff until it answers or `maxWait` has passed, with at most
 * `maxPending` calls of this process waiting at once, as the gateway holds
 * its clients' requests; past either, the call fails with 503 and
 * Retry-After (HOLD_TIMEOUT, HOLD_FULL), which the function's caller sees.
 * With `calls`, the client counts its calls, held and in flight, for the
 * reporter that adds them to the model's demand at the gateway
 * (model-call-demand.ts): the calls a function holds are what wake the model.
 *
 * A call made while a span is active (the function's, when the runtime
 * traces) carries its `traceparent`, so the model's spans join the trace.
 */
import { ExponentialBackoff, handleWhen, retry, TaskCancelledError, timeout, TimeoutStrategy, wrap, type IPolicy } from "cockatiel";
import type { ModelClient } from "../sdk/handler";
import { holdRetryAfterSeconds, type Endpoint, type HoldLimits } from "../sdk/spec";
import { authFor } from "./auth/backend-auth";
import { modelPredictPath, ServingError } from "./contract";
import type { ModelCalls } from "./model-call-demand";
import { injectActiveTrace } from "./trace-context";

/** The URL a model's predictions go to: the endpoint's own URL when exact, else its base URL plus the internal path. */
export function predictUrl(endpoint: Endpoint, key: string): URL {
  if (typeof endpoint === "string") return new URL(`${endpoint.replace(/\/$/, "")}${modelPredictPath(key)}`);
  return endpoint.exact ? new URL(endpoint.url) : new URL(`${endpoint.url.replace(/\/$/, "")}${modelPredictPath(key)}`);
}

/** The model answered 503: it has no instance ready to serve. */
class ModelNotReady extends Error {
  constructor(key: string) {
    super(`model ${key} answered 503`);
    this.name = "ModelNotReady";
  }
}

/** True when a call failed because the model is not ready: a 503, or a connection refused (fetch's cause, or one of its causes). */
function isNotReady(error: unknown): boolean {
  if (error instanceof ModelNotReady) return true;
  const cause = (error as { cause?: { code?: string; errors?: Array<{ code?: string }> } })?.cause;
  return cause?.code === "ECONNREFUSED" || (cause?.errors?.some((e) => e.code === "ECONNREFUSED") ?? false);
}

/** Calls of one client to a model that is not ready, waiting under its hold. */
class HeldCalls {
  private waiting = 0;
  private readonly policy: IPolicy;
  private readonly retryAfter: Record<string, string>;

  constructor(
    private readonly key: string,
    private readonly limits: HoldLimits,
    private readonly calls?: ModelCalls,
  ) {
    this.retryAfter = { "retry-after": String(holdRetryAfterSeconds(limits)) };
    // The timeout is aggressive: it answers at maxWait even while the retry sleeps, and aborts the attempt in flight.
    this.policy = wrap(
      timeout(limits.maxWaitMs, TimeoutStrategy.Aggressive),
      retry(handleWhen(isNotReady), { maxAttempts: Infinity, backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1_000 }) }),
    );
  }

  /** Runs `attempt`; when the model is not ready, again until it is, within the hold. */
  async run<T>(attempt: (signal?: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await attempt();
    } catch (error) {
      if (!isNotReady(error)) throw error;
    }
    if (this.waiting >= this.limits.maxPending)
      throw new ServingError("HOLD_FULL", `model ${this.key} is starting and ${this.waiting} calls already wait for it`, this.retryAfter);
    this.waiting++;
    // Held, not in flight, until an attempt answers: the model's scaler sees it as pending.
    if (this.calls) {
      this.calls.inFlight--;
      this.calls.pending++;
    }
    try {
      return await this.policy.execute(({ signal }) => attempt(signal));
    } catch (error) {
      if (error instanceof TaskCancelledError || isNotReady(error))
        throw new ServingError("HOLD_TIMEOUT", `model ${this.key} did not become ready in ${this.limits.maxWaitMs} ms`, this.retryAfter);
      throw error;
    } finally {
      this.waiting--;
      if (this.calls) {
        this.calls.pending--;
        this.calls.inFlight++;
      }
    }
  }
}

/**
 * A ModelClient that calls the model at `endpoint`, authenticating as the
 * endpoint needs (SigV4 with the AWS environment's or the container's
 * credentials, or a JWT), and waiting out its start under `hold` when given,
 * counting its calls in `calls` when given.
 */
export function remoteModelClient(endpoint: Endpoint, key: string, version: string, hold?: HoldLimits, calls?: ModelCalls): ModelClient {
  const url = predictUrl(endpoint, key);
  const auth = authFor(endpoint);
  const contentType = "application/json";
  const held = hold && new HeldCalls(key, hold, calls);
  const callHeaders = async (body: Buffer) => {
    const headers: Record<string, string> = {
      "content-type": contentType,
      ...(await auth?.({ host: url.host, path: `${url.pathname}${url.search}`, method: "POST", contentType, body })),
    };
    injectActiveTrace(headers);
    return headers;
  };
  /** One call, response read whole (a held call's signal is aborted once the attempt returns). */
  const send = async (body: Buffer, signal?: AbortSignal): Promise<Record<string, number[]>> => {
    const response = await fetch(url, { method: "POST", headers: await callHeaders(body), body, signal });
    if (held && response.status === 503) {
      await response.body?.cancel();
      throw new ModelNotReady(key);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new ServingError("BAD_GATEWAY", `model ${key} answered ${response.status}`);
    }
    return ((await response.json()) as { outputs: Record<string, number[]> }).outputs;
  };
  return {
    version,
    async predict(inputs) {
      const body = Buffer.from(
        JSON.stringify({ inputs: Object.fromEntries(Object.entries(inputs).map(([name, data]) => [name, Array.from(data)])) }),
      );
      if (calls) calls.inFlight++;
      let outputs: Record<string, number[]>;
      try {
        outputs = held ? await held.run((signal) => send(body, signal)) : await send(body);
      } finally {
        if (calls) calls.inFlight--;
      }
      return Object.fromEntries(Object.entries(outputs).map(([name, data]) => [name, Float32Array.from(data)]));
    },
  };
}

/**
 * A backend reached over HTTP: a function or model pod's internal endpoint,
 * through one undici pool per backend, created once. Streamed calls write the
 * upstream's response to the client as it arrives; the cache's buffered calls
 * collect it whole. Both go through a dispatch handler (one object per call,
 * its methods on the prototype: no stream objects or closures per request),
 * send exactly the body the gateway read, framed by its length (never bytes
 * of the client's stream the gateway did not read, which would reach the
 * backend as a request of their own), strip hop-by-hop headers both ways and
 * never forward the client's credentials. A SageMaker endpoint's 424
 * ModelError is answered with the model container's own status and body,
 * streamed or not (sagemaker.ts).
 *
 * Streaming used http-proxy-middleware until a profile showed it could not
 * reach the gateway's goal however it was used (docs/performance.md): alone,
 * with nothing in front of it, it cost 1.4× the CPU per request of a raw
 * node:http proxy, more than the whole budget for the pipeline and the proxy.
 *
 * A call always settles: with the upstream's status once the response is
 * out, with the upstream's timeout (headers, or the gap between body chunks)
 * as GATEWAY_TIMEOUT's cause, and with CLIENT_CLOSED when the client goes
 * away, which also aborts the upstream request.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { errors, Pool, type Dispatcher } from "undici";
import type { Endpoint } from "../../sdk/spec";
import { ServingError, type BackendAuth } from "../../runtime/contract";
import { BackendHealth } from "../routing/health";
import { FastFailure, HOP_BY_HOP, type Backend, type BackendRequest, type BufferedResponse } from "./backend";
import { containerResponse, isModelError, isSageMakerEndpoint, MAX_MODEL_ERROR_BYTES, modelErrorTooLarge } from "./sagemaker";

/** Where and how to reach one remote backend. */
export interface RemoteBackendOptions {
  endpoint: Endpoint;
  /** Path on the backend, e.g. `/_cloudloom/functions/classify` (ignored for `exact` endpoints). */
  path: string;
  region: string;
  timeoutMs: number;
  health: BackendHealth;
  /** How requests to it authenticate, when the endpoint needs it. */
  auth?: BackendAuth;
  /** The health path and the time a probe may take, for probes while requests are held (`wake`). */
  probe: { path: string; timeoutMs: number };
}

/** Errors of a connection that never opened: the upstream cannot have seen the request. */
const NEVER_CONNECTED = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);

/** Errors of a connection cut mid-call: the upstream may already have acted on a request it received whole. */
const CUT_OFF = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);

/** Methods whose request may run twice. */
const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);

/**
 * How a call that failed before the upstream's response is answered: tried
 * in another region when it may be (the connection never opened, or the
 * method is safe to repeat), else 502 for a connection cut off or a response
 * the parser refused; anything else (a timeout) goes on as it is and becomes
 * 504. undici does not say how much of the request went out, so a cut POST
 * counts as received: it may already have run, and is never sent again.
 */
function upstreamFailure(error: unknown, method: string): unknown {
  // The parser refused the response (an invalid header token and the like): the upstream answered, but not in HTTP.
  if (error instanceof errors.HTTPParserError) return new ServingError("BAD_GATEWAY", "the upstream's response was malformed");
  const code = (error as { code?: string })?.code;
  if (code === undefined) return error;
  if (NEVER_CONNECTED.has(code) || (CUT_OFF.has(code) && IDEMPOTENT.has(method))) return new FastFailure(error);
  return CUT_OFF.has(code) ? new ServingError("BAD_GATEWAY", "the upstream connection broke before its response") : error;
}

/**
 * How a call that failed after the upstream's response head is answered: a
 * connection cut before the body's end (shorter than its Content-Length, a
 * chunked body never closed) is BAD_GATEWAY, not the timeout an unknown
 * error becomes; a body timeout, or the gateway's own refusal of the answer
 * (a SageMaker 424 too large to unwrap), goes on as it is. Nothing of a
 * buffered answer or a held 424 reached the client, so the client gets it.
 */
function failureMidAnswer(error: unknown): unknown {
  const code = (error as { code?: string })?.code;
  return code !== undefined && CUT_OFF.has(code)
    ? new ServingError("BAD_GATEWAY", "the upstream connection broke in the middle of its response")
    : error;
}

const HOP = new Set(HOP_BY_HOP);

/**
 * What goes upstream: the request's forwarded headers (made for this call by
 * the exchange) with the body's exact length, set in place. A signature is
 * added to a copy (RemoteBackend.signed), so a retry in another region never
 * carries the first endpoint's.
 */
function framed(request: BackendRequest): IncomingHttpHeaders {
  request.headers["content-length"] = String(request.body.length);
  return request.headers;
}

/**
 * One call in flight, driven by undici's dispatcher: it settles its promise
 * once, maps failures before the response head to what the gateway answers,
 * and aborts the upstream request when asked to.
 */
abstract class UpstreamCall<T> implements Dispatcher.DispatchHandler {
  protected controller?: Dispatcher.DispatchController;
  /** Set once the upstream's response head arrived: from then on, nothing is retried elsewhere. */
  protected responded = false;
  private settled = false;

  constructor(
    private readonly method: string,
    private readonly resolve: (value: T) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Settled already (the client left while the request waited for a connection): the request is not sent.
    if (this.settled) controller.abort(new ServingError("CLIENT_CLOSED", "the client closed the connection before its response"));
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail(this.responded ? failureMidAnswer(error) : upstreamFailure(error, this.method));
  }

  /** Ends the call with `error`, aborting the upstream request if it is still going. */
  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.controller?.abort(error instanceof Error ? error : new Error(String(error)));
    this.reject(error);
  }

  protected succeed(value: T): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve(value);
  }
}

const STREAMED = Symbol("cloudloom.streamed");
type StreamedResponse = ServerResponse & { [STREAMED]?: StreamedCall };

/** The client closed its connection: a call still streaming to it ends, and its upstream request with it. */
function onClientClose(this: StreamedResponse): void {
  if (!this.writableFinished)
    this[STREAMED]?.fail(new ServingError("CLIENT_CLOSED", "the client closed the connection before its response"));
}

function resumeAfterDrain(this: StreamedResponse): void {
  this[STREAMED]?.resumeUpstream();
}

/** A SageMaker 424 read whole before anything goes to the client, to answer with the container's own (sagemaker.ts). */
interface HeldModelError {
  headers: Record<string, string>;
  chunks: Buffer[];
  length: number;
}

/**
 * A call whose response goes to the client as it arrives; resolves with the
 * status once it is all written. With `unwrapsModelErrors` (a SageMaker
 * endpoint), a 424 is held whole instead, and the client gets the
 * container's answer inside it.
 */
class StreamedCall extends UpstreamCall<number> {
  private status = 0;
  private held?: HeldModelError;

  constructor(
    private readonly res: StreamedResponse,
    method: string,
    resolve: (status: number) => void,
    reject: (error: unknown) => void,
    private readonly unwrapsModelErrors: boolean,
  ) {
    super(method, resolve, reject);
    // A retry in another region streams to the same response: one listener serves the latest call.
    if (!res[STREAMED]) res.on("close", onClientClose);
    res[STREAMED] = this;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    // 1xx answers are the upstream's own business with the gateway; the client gets the final one.
    if (statusCode < 200) return;
    this.responded = true;
    this.status = statusCode;
    if (this.unwrapsModelErrors && isModelError(statusCode)) {
      if (Number(headers["content-length"]) > MAX_MODEL_ERROR_BYTES) throw modelErrorTooLarge();
      this.held = { headers: relayedHeaders(headers), chunks: [], length: 0 };
      return;
    }
    for (const name of HOP_BY_HOP) delete headers[name];
    this.writeHead(statusCode, headers);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const held = this.held;
    if (held) {
      held.length += chunk.length;
      // Thrown here, undici aborts the upstream request, and the call fails with it (onResponseError).
      if (held.length > MAX_MODEL_ERROR_BYTES) throw modelErrorTooLarge();
      held.chunks.push(chunk);
      return;
    }
    if (this.res.write(chunk)) return;
    // The client reads slower than the upstream sends: hold the upstream until the client drains.
    controller.pause();
    this.res.once("drain", resumeAfterDrain);
  }

  onResponseEnd(): void {
    const held = this.held;
    if (!held) {
      this.res.end();
      this.succeed(this.status);
      return;
    }
    const answer = containerResponse({ status: this.status, headers: held.headers, body: Buffer.concat(held.chunks, held.length) });
    this.writeHead(answer.status, answer.headers);
    this.res.end(answer.body);
    this.succeed(answer.status);
  }

  /** Sends the response's head; throws BAD_GATEWAY, with nothing sent, for a header Node refuses (an invalid character). */
  private writeHead(status: number, headers: IncomingHttpHeaders | Record<string, string>): void {
    try {
      this.res.writeHead(status, headers);
    } catch {
      throw new ServingError("BAD_GATEWAY", "the upstream's response head cannot be relayed");
    }
  }

  resumeUpstream(): void {
    this.controller?.resume();
  }
}

/** The upstream's response headers a client may get, one string each (hop-by-hop ones dropped). */
function relayedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (!HOP.has(name) && value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/** A call whose response is collected whole (the cache needs it). */
class BufferedCall extends UpstreamCall<BufferedResponse> {
  private status = 0;
  private headers: Record<string, string> = {};
  private readonly chunks: Buffer[] = [];

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return;
    this.responded = true;
    this.status = statusCode;
    this.headers = relayedHeaders(headers);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    const { chunks } = this;
    this.succeed({ status: this.status, headers: this.headers, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) });
  }
}

/** A remote function or model version in one region. */
export class RemoteBackend implements Backend {
  readonly region: string;
  readonly health: BackendHealth;
  private readonly pool: Pool;
  private readonly path: string;
  private readonly wakeProbe: { path: string; timeoutMs: number };
  private prober?: NodeJS.Timeout;

  private readonly host: string;
  private readonly auth?: BackendAuth;
  /** A SageMaker endpoint: its 424s are unwrapped to the container's answer (sagemaker.ts). */
  private readonly sagemaker: boolean;

  constructor(options: RemoteBackendOptions) {
    this.region = options.region;
    this.health = options.health;
    const endpoint = typeof options.endpoint === "string" ? { url: options.endpoint } : options.endpoint;
    const base = new URL(endpoint.url);
    this.host = base.host;
    this.auth = options.auth;
    this.sagemaker = isSageMakerEndpoint(options.endpoint);
    this.wakeProbe = options.probe;
    this.path = "exact" in endpoint && endpoint.exact ? base.pathname : `${base.pathname.replace(/\/$/, "")}${options.path}`;
    // The timeouts are idle times on the upstream's connection: waiting for the response's head, and between its body's chunks.
    this.pool = new Pool(base.origin, {
      connections: 256,
      keepAliveTimeout: 10_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  async stream(_req: IncomingMessage, res: ServerResponse, request: BackendRequest): Promise<number> {
    const headers = this.auth ? await this.signed(request, this.auth) : framed(request);
    // The client may have gone while the signature waited for credentials: its 'close' is past.
    if (res.destroyed) throw new ServingError("CLIENT_CLOSED", "the client closed the connection before its response");
    return new Promise((resolve, reject) => {
      this.dispatch(request, headers, new StreamedCall(res, request.method, resolve, reject, this.sagemaker));
    });
  }

  async call(request: BackendRequest): Promise<BufferedResponse> {
    // Before the call: a signature that cannot be made is a backend-auth failure, not an upstream one.
    const headers = this.auth ? await this.signed(request, this.auth) : framed(request);
    const response = await new Promise<BufferedResponse>((resolve, reject) => {
      this.dispatch(request, headers, new BufferedCall(request.method, resolve, reject));
    });
    return this.sagemaker ? containerResponse(response) : response;
  }

  private dispatch(request: BackendRequest, headers: IncomingHttpHeaders, handler: Dispatcher.DispatchHandler): void {
    this.pool.dispatch({ path: this.path, method: request.method as Dispatcher.HttpMethod, headers, body: request.body }, handler);
  }

  /**
   * The headers of a request to an endpoint that authenticates it (SigV4 or a JWT): a copy of the
   * framed headers with the signature, made for this endpoint alone. Rejects with a ServingError
   * (BAD_GATEWAY) when credentials cannot be had.
   */
  private async signed(request: BackendRequest, auth: BackendAuth): Promise<IncomingHttpHeaders> {
    const contentType = typeof request.headers["content-type"] === "string" ? request.headers["content-type"] : undefined;
    const signature = await auth({ host: this.host, path: this.path, method: request.method, contentType, body: request.body });
    return { ...framed(request), ...signature };
  }

  /** Probes `path` once, within `timeoutMs`, and records the result in the backend's health. */
  async probe(path: string, timeoutMs: number): Promise<void> {
    try {
      const response = await this.pool.request({ path, method: "GET", headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      await response.body.dump();
      this.health.probed(response.statusCode < 500);
    } catch {
      this.health.probed(false);
    }
  }

  startProbes(intervalMs: number, path: string): void {
    this.prober = setInterval(() => void this.probe(path, intervalMs), intervalMs);
    this.prober.unref();
  }

  wake(): Promise<void> {
    return this.probe(this.wakeProbe.path, this.wakeProbe.timeoutMs);
  }

  async close(): Promise<void> {
    clearInterval(this.prober);
    await this.pool.close();
  }
}

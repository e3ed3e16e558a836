/**
 * A backend reached over HTTP: a function or model pod's internal endpoint.
 * Streaming goes through http-proxy-middleware on a keep-alive agent (one
 * middleware per backend, created once), the cache's buffered calls through
 * an undici pool. Both send exactly the body the gateway read, framed by its
 * length (never bytes of the client's stream the gateway did not read, which
 * would reach the backend as a request of their own), strip hop-by-hop
 * headers both ways and never forward the client's credentials.
 *
 * A streamed call always settles: with the upstream's status once the
 * response is out, with GATEWAY_TIMEOUT's cause when the upstream is idle for
 * the timeout (a timeout on the upstream's socket, never the client's), and
 * with CLIENT_CLOSED when the client goes away, which also aborts the
 * upstream request.
 */
import type { ClientRequest, IncomingMessage, ServerResponse } from "node:http";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { createProxyMiddleware, proxyEventsPlugin, type RequestHandler } from "http-proxy-middleware";
import { Pool } from "undici";
import type { Endpoint } from "../../sdk/spec";
import { ServingError, type BackendAuth } from "../../runtime/contract";
import { BackendHealth } from "../routing/health";
import { FastFailure, HOP_BY_HOP, type Backend, type BackendRequest, type BufferedResponse } from "./backend";

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
}

/** Errors of a connection that never opened: the upstream cannot have seen the request. */
const NEVER_CONNECTED = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);

/** Errors of a connection cut mid-call: the upstream may already have acted on a request it received whole. */
const CUT_OFF = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);

/** How a failed call is answered: retried elsewhere when it may be, else 502 for a connection cut off (504 comes from timeouts). */
function upstreamFailure(error: unknown, method: string, deliveredWhole: boolean): unknown {
  if (isFastFailure(error, method, deliveredWhole)) return new FastFailure(error);
  const code = (error as { code?: string })?.code;
  return code !== undefined && CUT_OFF.has(code)
    ? new ServingError("BAD_GATEWAY", "the upstream connection broke before its response")
    : error;
}

/** Methods whose request may run twice. */
const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);

/**
 * True when the call may be tried in another region: the connection never
 * opened, or it was cut before the upstream had the whole request, or the
 * method is safe to repeat. A POST the upstream received whole is never sent
 * again, since it may already have run.
 */
function isFastFailure(error: unknown, method: string, deliveredWhole: boolean): boolean {
  const code = (error as { code?: string })?.code;
  if (code === undefined) return false;
  return NEVER_CONNECTED.has(code) || (CUT_OFF.has(code) && (!deliveredWhole || IDEMPOTENT.has(method)));
}

const HOP = new Set(HOP_BY_HOP);

/** The upstream sent nothing for the timeout: a backend fault, answered 504 GATEWAY_TIMEOUT. */
class UpstreamTimeout extends Error {
  constructor(ms: number) {
    super(`the upstream sent nothing for ${ms} ms`);
    this.name = "UpstreamTimeout";
  }
}

/** One streamed call, as the proxy's hooks see it. */
interface ProxiedCall {
  /** Exactly the headers that go upstream. */
  headers: Record<string, string | string[]>;
  body: Buffer;
  timeoutMs: number;
  /** The request to the upstream, once the proxy made it. */
  upstream?: ClientRequest;
  /** Set once the whole request went out: from then on the upstream may have acted on it. */
  delivered: boolean;
  /** Set once the upstream's response head arrived: from then on, nothing is retried elsewhere. */
  responded: boolean;
  fail(error: unknown): void;
  succeed(status: number): void;
}

const CALL = Symbol("cloudloom.call");
type ProxiedRequest = IncomingMessage & { [CALL]?: ProxiedCall };

function onProxyReq(upstream: ClientRequest, req: IncomingMessage): void {
  const call = (req as ProxiedRequest)[CALL]!;
  call.upstream = upstream;
  // Idle time on the upstream socket: waiting for the response's head, and between its body's chunks.
  upstream.setTimeout(call.timeoutMs, () => call.fail(new UpstreamTimeout(call.timeoutMs)));
  upstream.once("close", () => {
    if (!call.responded) call.fail(new Error("the upstream closed the connection before answering"));
  });
  // The body the gateway read, framed by its length. The client's stream was read to its end
  // (read-body reads every method's body), so the proxy's pipe of it only ends the request.
  if (call.body.length > 0) upstream.write(call.body);
  upstream.once("finish", () => (call.delivered = true));
}

function onProxyRes(response: IncomingMessage, req: IncomingMessage, res: ServerResponse): void {
  const call = (req as ProxiedRequest)[CALL]!;
  call.responded = true;
  for (const name of HOP_BY_HOP) if (name !== "transfer-encoding") delete response.headers[name];
  const status = response.statusCode ?? 502;
  response.once("close", () => {
    if (!response.complete) call.fail(new Error("the upstream closed its response early"));
  });
  res.once("finish", () => call.succeed(status));
}

function onProxyError(error: Error, req: IncomingMessage): void {
  (req as ProxiedRequest)[CALL]?.fail(error);
}

/** A remote function or model version in one region. */
export class RemoteBackend implements Backend {
  readonly region: string;
  readonly health: BackendHealth;
  private readonly agent: HttpAgent;
  private readonly pool: Pool;
  private readonly proxy: RequestHandler;
  private readonly path: string;
  private readonly timeoutMs: number;
  private probe?: NodeJS.Timeout;

  private readonly host: string;
  private readonly auth?: BackendAuth;

  constructor(options: RemoteBackendOptions) {
    this.region = options.region;
    this.health = options.health;
    const endpoint = typeof options.endpoint === "string" ? { url: options.endpoint } : options.endpoint;
    const base = new URL(endpoint.url);
    this.host = base.host;
    this.auth = options.auth;
    this.timeoutMs = options.timeoutMs;
    this.path = "exact" in endpoint && endpoint.exact ? base.pathname : `${base.pathname.replace(/\/$/, "")}${options.path}`;
    const agentOptions = { keepAlive: true, maxSockets: 256, keepAliveMsecs: 10_000 };
    this.agent = base.protocol === "https:" ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.pool = new Pool(base.origin, {
      connections: 128,
      keepAliveTimeout: 10_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    const path = this.path;
    this.proxy = createProxyMiddleware({
      // Parsed once here: given as a string, http-proxy would parse it again for every request.
      target: { protocol: base.protocol, host: base.hostname, hostname: base.hostname.replace(/^\[(.*)\]$/, "$1"), port: base.port },
      // The path comes whole from pathRewrite: no url.parse of it per request.
      toProxy: true,
      changeOrigin: true,
      agent: this.agent,
      // No `timeout` or `proxyTimeout`: the first would time the client's socket; onProxyReq times the upstream's.
      pathRewrite: () => path,
      ejectPlugins: true,
      plugins: [proxyEventsPlugin],
      on: { proxyReq: onProxyReq, proxyRes: onProxyRes, error: onProxyError },
    });
  }

  async stream(req: IncomingMessage, res: ServerResponse, request: BackendRequest): Promise<number> {
    const headers = await this.headers(request);
    // The client may have gone while the signature waited for credentials: its 'close' is past.
    if (res.destroyed) throw new ServingError("CLIENT_CLOSED", "the client closed the connection before its response");
    return new Promise((resolve, reject) => {
      let settled = false;
      const call: ProxiedCall = {
        headers,
        body: request.body,
        timeoutMs: this.timeoutMs,
        delivered: false,
        responded: false,
        fail: (error) => {
          if (settled) return;
          settled = true;
          // Ends the upstream request (and its socket) whatever state it is in.
          call.upstream?.destroy();
          // Before any response byte, nothing reached a handler's answer: safe to retry elsewhere.
          reject(call.responded ? error : upstreamFailure(error, request.method, call.delivered));
        },
        succeed: (status) => {
          if (settled) return;
          settled = true;
          resolve(status);
        },
      };
      (req as ProxiedRequest)[CALL] = call;
      // http-proxy copies the outgoing headers from the request: make them the gateway's own set, so that
      // even a request that skipped onProxyReq would carry no client credential or x-cloudloom-* header.
      req.headers = call.headers;
      res.once("close", () => {
        if (!res.writableFinished) call.fail(new ServingError("CLIENT_CLOSED", "the client closed the connection before its response"));
      });
      void this.proxy(req as never, res as never, call.fail as never);
    });
  }

  async call(request: BackendRequest): Promise<BufferedResponse> {
    // Before the try: a signature that cannot be made is a backend-auth failure, not an upstream one.
    const headers = await this.headers(request);
    let response;
    try {
      response = await this.pool.request({
        path: this.path,
        method: request.method as "POST",
        headers,
        body: request.body,
      });
    } catch (error) {
      // undici does not say how much of the request went out: assume all of it.
      throw upstreamFailure(error, request.method, true);
    }
    const body = Buffer.from(await response.body.arrayBuffer());
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers))
      if (!HOP.has(name) && value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
    return { status: response.statusCode, headers: out, body };
  }

  /** What goes upstream: the forwarded headers, the body's exact length, and the signature when the endpoint needs one. */
  private async headers(request: BackendRequest): Promise<Record<string, string | string[]>> {
    const headers = { ...request.headers, "content-length": String(request.body.length), ...(await this.sign(request)) };
    return headers as Record<string, string | string[]>;
  }

  /**
   * The headers that authenticate the request (SigV4 or a JWT), when the endpoint needs them. Rejects
   * with a ServingError (BAD_GATEWAY) when credentials cannot be had.
   */
  private async sign(request: BackendRequest): Promise<Record<string, string>> {
    if (!this.auth) return {};
    const contentType = typeof request.headers["content-type"] === "string" ? request.headers["content-type"] : undefined;
    return this.auth({ host: this.host, path: this.path, method: request.method, contentType, body: request.body });
  }

  startProbes(intervalMs: number, path: string): void {
    const probe = async () => {
      try {
        const response = await this.pool.request({ path, method: "GET", headersTimeout: intervalMs, bodyTimeout: intervalMs });
        await response.body.dump();
        this.health.probed(response.statusCode < 500);
      } catch {
        this.health.probed(false);
      }
    };
    this.probe = setInterval(() => void probe(), intervalMs);
    this.probe.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.probe);
    this.agent.destroy();
    await this.pool.close();
  }
}

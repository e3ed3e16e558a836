/**
 * A backend reached over HTTP: a function or model pod's internal endpoint.
 * Streaming goes through http-proxy-middleware on a keep-alive agent (one
 * middleware per backend, created once); the cache's buffered calls go
 * through an undici pool. Both strip hop-by-hop headers both ways and never
 * forward the client's credentials.
 */
import { Agent, type IncomingMessage, type ServerResponse } from "node:http";
import type { ClientRequest } from "node:http";
import { createProxyMiddleware, proxyEventsPlugin, type RequestHandler } from "http-proxy-middleware";
import { Pool } from "undici";
import type { Endpoint } from "../../sdk/spec";
import type { BackendAuth } from "../../runtime/contract";
import { BackendHealth } from "../routing/health";
import { FastFailure, HOP_BY_HOP, NOT_FORWARDED, type Backend, type BackendRequest, type BufferedResponse } from "./backend";

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

const FAST_FAILURES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EPIPE",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** True for errors that happen before the upstream saw the request. */
function isFastFailure(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  return code !== undefined && FAST_FAILURES.has(code);
}

interface PendingProxy {
  /** Signing headers, computed before the proxy writes the request. */
  signed: Record<string, string>;
  body: Buffer;
  tenant: string;
  requestId: string;
  resolve: (status: number) => void;
  reject: (error: unknown) => void;
}

const PENDING = Symbol("cloudloom.proxy");
type ProxiedRequest = IncomingMessage & { [PENDING]?: PendingProxy };

function stripResponseHeaders(headers: Record<string, unknown>): void {
  for (const name of HOP_BY_HOP) if (name !== "transfer-encoding") delete headers[name];
}

function onProxyReq(proxyReq: ClientRequest, req: IncomingMessage): void {
  const pending = (req as ProxiedRequest)[PENDING]!;
  for (const name of NOT_FORWARDED) if (name !== "host") proxyReq.removeHeader(name);
  proxyReq.setHeader("x-request-id", pending.requestId);
  proxyReq.setHeader("x-cloudloom-tenant", pending.tenant);
  proxyReq.setHeader("content-length", pending.body.length);
  for (const name in pending.signed) proxyReq.setHeader(name, pending.signed[name]);
  if (pending.body.length > 0) proxyReq.write(pending.body);
}

function onProxyRes(proxyRes: IncomingMessage, req: IncomingMessage): void {
  stripResponseHeaders(proxyRes.headers);
  const pending = (req as ProxiedRequest)[PENDING]!;
  proxyRes.once("end", () => pending.resolve(proxyRes.statusCode ?? 502));
}

function onProxyError(error: Error, req: IncomingMessage): void {
  const pending = (req as ProxiedRequest)[PENDING];
  pending?.reject(isFastFailure(error) ? new FastFailure(error) : error);
}

/** A remote function or model version in one region. */
export class RemoteBackend implements Backend {
  readonly region: string;
  readonly health: BackendHealth;
  private readonly origin: string;
  private readonly agent: Agent;
  private readonly pool: Pool;
  private readonly proxy: RequestHandler;
  private readonly path: string;
  private probe?: NodeJS.Timeout;

  private readonly host: string;
  private readonly auth?: BackendAuth;

  constructor(options: RemoteBackendOptions) {
    this.region = options.region;
    this.health = options.health;
    const endpoint = typeof options.endpoint === "string" ? { url: options.endpoint } : options.endpoint;
    const base = new URL(endpoint.url);
    this.origin = base.origin;
    this.host = base.host;
    this.auth = options.auth;
    const path = "exact" in endpoint && endpoint.exact ? base.pathname : `${base.pathname.replace(/\/$/, "")}${options.path}`;
    this.agent = new Agent({ keepAlive: true, maxSockets: 256, keepAliveMsecs: 10_000 });
    this.pool = new Pool(this.origin, {
      connections: 128,
      keepAliveTimeout: 10_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    this.proxy = createProxyMiddleware({
      target: this.origin,
      changeOrigin: true,
      agent: this.agent,
      proxyTimeout: options.timeoutMs,
      timeout: options.timeoutMs,
      pathRewrite: () => path,
      ejectPlugins: true,
      plugins: [proxyEventsPlugin],
      on: { proxyReq: onProxyReq, proxyRes: onProxyRes, error: onProxyError },
    });
    this.path = path;
  }

  stream(req: IncomingMessage, res: ServerResponse, request: BackendRequest): Promise<number> {
    return new Promise((resolve, reject) => {
      (req as ProxiedRequest)[PENDING] = {
        signed: this.sign(request),
        body: request.body,
        tenant: request.tenant,
        requestId: request.requestId,
        resolve,
        reject,
      };
      void this.proxy(req as never, res as never, reject as never);
    });
  }

  async call(request: BackendRequest): Promise<BufferedResponse> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers))
      if (!NOT_FORWARDED.has(name) && typeof value === "string") headers[name] = value;
    headers["x-request-id"] = request.requestId;
    headers["x-cloudloom-tenant"] = request.tenant;
    Object.assign(headers, this.sign(request));
    let response;
    try {
      response = await this.pool.request({ path: this.path, method: request.method as "POST", headers, body: request.body });
    } catch (error) {
      throw isFastFailure(error) ? new FastFailure(error) : error;
    }
    const body = Buffer.from(await response.body.arrayBuffer());
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers))
      if (!HOP_BY_HOP.includes(name) && value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
    return { status: response.statusCode, headers: out, body };
  }

  /** The headers that authenticate the request (SigV4 or a JWT), when the endpoint needs them. */
  private sign(request: BackendRequest): Record<string, string> {
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

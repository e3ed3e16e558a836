/** What every backend (in-process runtime or remote endpoint) offers the pipeline. */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Endpoint } from "../../sdk/spec";
import type { BackendAuth } from "../../runtime/contract";
import type { BackendHealth } from "../routing/health";

/** The parts of a request a backend needs; the body is already read. */
export interface BackendRequest {
  method: string;
  path: string;
  /** What the backend may see of the client's headers, with the gateway's own (see forwardedHeaders). */
  headers: IncomingHttpHeaders;
  query: Record<string, unknown>;
  body: Buffer;
  requestId: string;
  tenant: string;
}

/**
 * The authentication an endpoint needs, or undefined for a plain one. The
 * composer hands it over (the runtime's, which functions calling models use too);
 * it throws, naming the variables, when credentials are missing.
 */
export type BackendAuthFor = (endpoint: Endpoint) => BackendAuth | undefined;

/** A whole response. */
export interface BufferedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** A failure before any response byte was sent: safe to retry elsewhere. */
export class FastFailure extends Error {
  constructor(cause: unknown) {
    super(`upstream unreachable: ${(cause as Error)?.message ?? cause}`, { cause });
    this.name = "FastFailure";
  }
}

/** One function or model version in one region. */
export interface Backend {
  readonly region: string;
  readonly health: BackendHealth;
  /** Calls the backend and buffers the whole response (the cache needs it). */
  call(request: BackendRequest): Promise<BufferedResponse>;
  /** Streams the response straight to `res` and resolves with its status. Optional. */
  stream?(req: IncomingMessage, res: ServerResponse, request: BackendRequest): Promise<number>;
  /** Starts active health probes, if the backend has any. */
  startProbes?(intervalMs: number, path: string): void;
  /**
   * True while the backend has no instance loaded to serve at once (a local
   * entry scaled to zero): a request would wait for one to start. A remote
   * backend's readiness is its health.
   */
  readonly cold?: boolean;
  /**
   * Asks a backend that is not ready to become so, resolving once it has
   * answered: a remote one is probed (a success readmits it), a local one
   * starts an instance. The hold calls it while requests wait.
   */
  wake?(): Promise<void>;
  close(): Promise<void>;
}

/** Hop-by-hop headers, never forwarded in either direction. */
export const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

/** Headers of the client that stay at the gateway: credentials, hop-by-hop ones and the body's framing. */
export const NOT_FORWARDED = new Set([
  ...HOP_BY_HOP,
  "authorization",
  "x-api-key",
  "x-admin-key",
  "host",
  "content-length",
  // The gateway answered the expectation itself (Node sends 100 Continue) and read the body; upstream it
  // would only make http-proxy skip the hook that replaces the client's headers with the gateway's.
  "expect",
  // A client's trace context is only ever the parent of the gateway's request span (see ../tracing.ts):
  // a traced call sends the context of its own attempt span, an untraced one none.
  "traceparent",
  "tracestate",
]);

/** The prefix of the headers only the gateway sets (tenant, version, region): a client's are never passed on. */
const GATEWAY_HEADER_PREFIX = "x-cloudloom-";

/**
 * The headers a backend (remote endpoint or in-process handler) gets: the
 * client's, without credentials, hop-by-hop headers, any `x-cloudloom-*`
 * header a client wrote (a backend trusts those as the gateway's) or the
 * `withheld` ones, plus the gateway's request id and tenant.
 */
export function forwardedHeaders(
  client: IncomingHttpHeaders,
  requestId: string,
  tenant: string,
  withheld?: ReadonlySet<string>,
): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const name in client)
    if (!NOT_FORWARDED.has(name) && !name.startsWith(GATEWAY_HEADER_PREFIX) && !withheld?.has(name)) headers[name] = client[name];
  headers["x-request-id"] = requestId;
  headers["x-cloudloom-tenant"] = tenant;
  return headers;
}

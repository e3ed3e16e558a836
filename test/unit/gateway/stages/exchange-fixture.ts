/** Exchanges, routes and targets for stage tests, without sockets or a route table. */
import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import type { Backend, BackendRequest, BufferedResponse } from "../../../../gateway/backends/backend";
import { Exchange } from "../../../../gateway/exchange";
import type { CompiledRoute, CompiledTarget, ResponseVersion, RouteTable } from "../../../../gateway/route-table";
import { BackendHealth } from "../../../../gateway/routing/health";
import { createBreaker } from "../../../../gateway/routing/resilience";
import type { RouteSpec } from "../../../../sdk/spec";

/** A request as the gateway sees it; `chunks` are its streamed body. */
export function request(
  options: { method?: string; url?: string; headers?: Record<string, string>; peer?: string; chunks?: string[] } = {},
): IncomingMessage {
  const socket = new Socket();
  Object.defineProperty(socket, "remoteAddress", { value: options.peer ?? "198.51.100.7" });
  const req = new IncomingMessage(socket);
  req.method = options.method ?? "POST";
  req.url = options.url ?? "/x";
  req.headers = options.headers ?? {};
  for (const chunk of options.chunks ?? []) req.push(Buffer.from(chunk));
  if (options.chunks) req.push(null);
  return req;
}

/** A function target in region "central", answered by `call`. */
export function target(
  call: (request: BackendRequest) => Promise<BufferedResponse>,
  responseVersion: ResponseVersion = { namedBy: "function", models: "-" },
): CompiledTarget & { backend: Backend } {
  const backend: Backend = { region: "central", health: new BackendHealth(3, 10_000), call, close: async () => undefined };
  return {
    kind: "function",
    entry: "fn",
    responseVersion,
    levels: { edgesByLocality: new Map(), central: ["central"] },
    backends: new Map([["central", backend]]),
    breakers: new Map([["central", createBreaker(5, 5_000, "gateway-failures")]]),
    backend,
  };
}

/** A route `key` over `targets` (by version, "-" for the only one). */
export function route(
  key: string,
  spec: Partial<RouteSpec> = {},
  targets: Map<string, CompiledTarget> = new Map(),
  extra: Partial<CompiledRoute> = {},
): CompiledRoute {
  return { key, spec: { target: { kind: "function", name: "fn" }, auth: "none", ...spec } as RouteSpec, targets, ...extra };
}

/** A table holding `routes` (asynchronous ones also by their tag). */
export function table(...routes: CompiledRoute[]): RouteTable {
  return {
    routes: new Map(routes.map((r) => [r.key, r])),
    paths: new Set(routes.map((r) => r.key.slice(r.key.indexOf(" ") + 1))),
    asyncByTag: new Map(routes.flatMap((r) => (r.async ? [[r.async.tag, r] as const] : []))),
  } as unknown as RouteTable;
}

/** An exchange of `req`, already matched to `matched` when given. */
export function exchange(req: IncomingMessage = request(), matched?: CompiledRoute): Exchange {
  const x = new Exchange(req, new ServerResponse(req), table(...(matched ? [matched] : [])));
  if (matched) {
    x.route = matched;
    x.record.route = matched.key;
  }
  return x;
}

/**
 * The local target's HTTP server: the spec's routes, served by the in-process
 * runtime. Every response names the region, the version and whether the call
 * was a cold start.
 */
import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type Response } from "express";
import pino, { type Logger } from "pino";
import type { RouteSpec, SpecV1 } from "../../sdk/spec";
import { GatewayError, toErrorResponse } from "../errors";
import { GatewayMetrics } from "../metrics";
import { chooseRegion } from "../routing/locality";
import { compileSplit, pickVersion } from "../routing/versions";
import { functionInvokePath, modelPredictPath } from "./remote-model";
import { LocalRuntime, type RuntimeScope } from "./runtime";

/** How to start a local gateway. */
export interface LocalGatewayOptions {
  spec: SpecV1;
  /** The app's root: handler modules and artifacts are relative to it. */
  root: string;
  logger?: Logger;
  /** Request body limit. @default "1mb" */
  bodyLimit?: string;
  /** Serve one entry in one region (a cluster pod) instead of the whole app. */
  scope?: RuntimeScope;
}

/** Header the edge (or a client, locally) uses to state its locality. */
export const LOCALITY_HEADER = "x-cloudloom-locality";

interface Served {
  status: number;
  body: unknown;
  headers: Record<string, string>;
  region: string;
  version: string;
}

/** A running (or ready to run) local gateway. */
export class LocalGateway {
  readonly app = express();
  readonly runtime: LocalRuntime;
  readonly metrics = new GatewayMetrics();
  private readonly log: Logger;
  private server: Server | undefined;

  constructor(private readonly options: LocalGatewayOptions) {
    this.log = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? "info" });
    this.runtime = new LocalRuntime(
      options.spec,
      options.root,
      {
        onColdStart: (entry, region, ms) => this.metrics.coldStarts.labels(entry, region).observe(ms / 1000),
        onBatch: (model, size) => this.metrics.batchSize.labels(model).observe(size),
        warn: (message) => this.log.warn(message),
      },
      options.scope,
    );
    this.app.disable("x-powered-by");
    this.app.use(express.json({ limit: options.bodyLimit ?? "1mb" }));
    this.app.get("/healthz", (_req, res) => void res.json({ status: "ok" }));
    this.app.get(
      "/readyz",
      (_req, res) =>
        void res
          .status(this.server?.listening ? 200 : 503)
          .json({ ready: Boolean(this.server?.listening), unavailable: Object.fromEntries(this.runtime.unavailable) }),
    );
    this.app.get(
      "/metrics",
      async (_req, res) => void res.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics()),
    );
    if (options.scope?.only) this.mountInternal(options.scope.only, options.scope.region);
    else for (const [key, route] of Object.entries(options.spec.routes)) this.mount(key, route);
    this.app.use((_req, _res, next) => next(new GatewayError("NOT_FOUND", "no route matches this method and path")));
    this.app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => this.sendError(error, req, res));
  }

  /** Warms the floors, then listens on `port` (0 picks a free one) on `host`. */
  async listen(port: number, host = "127.0.0.1"): Promise<AddressInfo> {
    await this.runtime.warm();
    this.server = await new Promise<Server>((resolve) => {
      const server = this.app.listen(port, host, () => resolve(server));
    });
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
    return this.server.address() as AddressInfo;
  }

  /** Stops accepting connections, lets in-flight requests finish, then unloads. */
  async close(): Promise<void> {
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    }
    await this.runtime.close();
  }

  private mount(key: string, route: RouteSpec): void {
    this.mountServe(key, this.compile(route));
  }

  /**
   * The internal endpoint of a scoped server (a cluster pod): the gateway
   * calls `/_cloudloom/models/<key>` or `/_cloudloom/functions/<name>` on it.
   */
  private mountInternal(only: NonNullable<RuntimeScope["only"]>, region: string | undefined): void {
    const { spec } = this.options;
    if (only.kind === "model") {
      const model = spec.models[only.name];
      this.mountServe(`POST ${modelPredictPath(only.name)}`, (req) => this.serveModel(only.name, region ?? model.regions[0], req));
      return;
    }
    const fn = spec.functions[only.name];
    this.mountServe(`POST ${functionInvokePath(only.name)}`, (req, requestId) =>
      this.serveFunction(only.name, region ?? fn.regions[0], req, requestId),
    );
  }

  private mountServe(key: string, serve: (req: Request, requestId: string) => Promise<Served>): void {
    const [method, path] = key.split(" ");
    const handle = async (req: Request, res: Response, next: NextFunction) => {
      const started = performance.now();
      const requestId = (req.headers["x-request-id"] as string | undefined) ?? randomUUID();
      res.setHeader("x-request-id", requestId);
      try {
        const served = await serve(req, requestId);
        res.set({ ...served.headers, "x-cloudloom-region": served.region, "x-cloudloom-version": served.version });
        res.status(served.status).json(served.body);
        this.metrics.requests.labels(key, served.region, served.version, String(served.status)).inc();
        this.metrics.latency.labels(key, served.region).observe((performance.now() - started) / 1000);
      } catch (error) {
        next(error);
      }
    };
    (this.app as unknown as Record<string, (path: string, handler: typeof handle) => void>)[method.toLowerCase()](path, handle);
  }

  private compile(route: RouteSpec): (req: Request, requestId: string) => Promise<Served> {
    const { spec } = this.options;
    const target = route.target;
    if (target.kind === "function") {
      const fn = spec.functions[target.name];
      return (req, requestId) =>
        this.serveFunction(target.name, chooseRegion(fn.regions, spec.regions, req.get(LOCALITY_HEADER)), req, requestId);
    }
    const split = compileSplit(target.weights, target.sticky);
    return (req, requestId) => {
      const key = `${target.name}@${pickVersion(split, requestId)}`;
      return this.serveModel(key, chooseRegion(spec.models[key].regions, spec.regions, req.get(LOCALITY_HEADER)), req);
    };
  }

  private async serveFunction(name: string, region: string, req: Request, requestId: string): Promise<Served> {
    const request = { method: req.method, path: req.path, headers: req.headers, query: req.query, body: req.body };
    const { response, cold, coldStartMs } = await this.runtime.invoke(name, region, request, requestId);
    const version = this.options.spec.functions[name].models.join(",") || "-";
    return {
      status: response.status,
      body: response.body,
      headers: { ...response.headers, ...coldHeaders(cold, coldStartMs) },
      region,
      version,
    };
  }

  private async serveModel(key: string, region: string, req: Request): Promise<Served> {
    const model = this.options.spec.models[key];
    const prediction = await this.runtime.predict(key, region, (req.body as { inputs?: unknown } | undefined)?.inputs);
    const outputs = Object.fromEntries(Object.entries(prediction.outputs).map(([name, data]) => [name, Array.from(data)]));
    return {
      status: 200,
      body: { model: model.name, version: model.version, outputs },
      headers: coldHeaders(prediction.cold, prediction.coldStartMs),
      region,
      version: model.version,
    };
  }

  private sendError(error: unknown, req: Request, res: Response): void {
    const normalized = bodyParserError(error) ?? error;
    const { status, headers, body } = toErrorResponse(normalized);
    if (status >= 500)
      this.log.error(
        { err: (normalized as { cause?: unknown }).cause ?? normalized, requestId: res.getHeader("x-request-id"), path: req.path },
        body.error.message,
      );
    res.status(status).set(headers).json(body);
    this.metrics.requests.labels(req.route?.path ? `${req.method} ${req.route.path}` : "unmatched", "-", "-", String(status)).inc();
  }
}

function coldHeaders(cold: boolean, coldStartMs: number): Record<string, string> {
  return cold ? { "x-cloudloom-cold": "true", "x-cloudloom-cold-start-ms": coldStartMs.toFixed(1) } : { "x-cloudloom-cold": "false" };
}

/** express.json() errors, as gateway errors. */
function bodyParserError(error: unknown): GatewayError | undefined {
  const type = (error as { type?: string } | undefined)?.type;
  if (type === "entity.too.large") return new GatewayError("PAYLOAD_TOO_LARGE", "the request body is larger than the limit");
  if (type === "entity.parse.failed") return new GatewayError("BAD_JSON", "the request body is not valid JSON");
  return undefined;
}

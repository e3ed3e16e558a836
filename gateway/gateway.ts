/**
 * The unified gateway. One express app hosts the operational endpoints; app
 * requests run the stages of pipeline.ts over a route table compiled once
 * per configuration. Reloading swaps the table atomically; requests in
 * flight finish on the table they started with, whose backends close after
 * its last request. The gateway is handed what it does not own (Redis
 * client, API keys, metrics, logger): the CLI or the local target composes
 * them, and closes what it opened.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import type Redis from "ioredis";
import type { Logger } from "pino";
import type { SpecV1 } from "../sdk/spec";
import type { BackendAuthFor } from "./backends/backend";
import type { GatewaySettings } from "./config";
import { closeGracefully, ERROR_STATUS, HEALTH_PATHS, listenOn, ServingError, toErrorResponse } from "../runtime/contract";
import { Exchange, type Stage } from "./exchange";
import type { GatewayMetrics } from "./metrics";
import { requestPipeline } from "./pipeline";
import type { AccessRecord } from "./stages/observe";
import { adminKeyCheck } from "./stages/authenticate";
import { MetricChildren } from "./metric-children";
import { RouteTable, type BackendSource } from "./route-table";

/** Everything a gateway serves from. */
export interface GatewayOptions {
  spec: SpecV1;
  settings: GatewaySettings;
  source: BackendSource;
  /** Every API key accepted on `api-key` routes: the composer merges the settings' keys with the environment's. */
  apiKeys: readonly string[];
  /** Shared store for rate limits and the L2 cache, connected (and later closed) by the composer. */
  redis?: Redis;
  /** Metrics to record into (the local target shares their registry with its runtime). */
  metrics: GatewayMetrics;
  logger: Logger;
  /** How requests to an endpoint authenticate (SigV4, JWT); the composer hands over the runtime's. */
  backendAuth: BackendAuthFor;
  /** Called by SIGHUP or POST /admin/reload to produce the next configuration. */
  reloadFrom?: () => Promise<{ spec: SpecV1; source: BackendSource }>;
}

interface Generation {
  table: RouteTable;
  inFlight: number;
  retired: boolean;
}

/** A running gateway. */
export class Gateway {
  readonly app = express();
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  private readonly stages: readonly Stage[];
  private readonly adminCheck: (req: IncomingMessage) => Promise<void>;
  private generation: Generation;
  private server?: Server;
  private readonly decisions: MetricChildren<{ inc(): void }>;

  constructor(private readonly options: GatewayOptions) {
    const { settings } = options;
    this.metrics = options.metrics;
    this.decisions = new MetricChildren((route, decision) => this.metrics.limiter.labels(route, decision));
    this.log = options.logger;
    this.stages = requestPipeline(options);
    this.adminCheck = adminKeyCheck(settings, options.redis);
    this.generation = { table: this.compile(options.spec, options.source), inFlight: 0, retired: false };
    this.app.disable("x-powered-by");
    this.app.disable("etag");
    this.app.get(HEALTH_PATHS.live, (_req, res) => void res.json({ status: "ok" }));
    this.app.get(
      HEALTH_PATHS.ready,
      (_req, res) => void res.status(this.server?.listening ? 200 : 503).json({ ready: Boolean(this.server?.listening) }),
    );
    this.app.get("/metrics", (_req, res) => void this.sendMetrics(res));
    this.app.post("/admin/reload", (req, res) => void this.adminReload(req, res));
    // Unknown paths under the operational prefixes still get the JSON 404.
    this.app.use((req, res) => void this.dispatch(req, res));
  }

  /** The spec being served now. */
  get spec(): SpecV1 {
    return this.generation.table.spec;
  }

  /** Listens on `port` (0 picks one), with header and request timeouts against slow clients. */
  async listen(port: number, host = "127.0.0.1"): Promise<AddressInfo> {
    const { limits } = this.options.settings;
    this.server = createServer(
      {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        // Node enforces both timeouts only when it checks its connections (every 30 s by default), so a
        // slow client would hold its connection up to 30 s past them; checking each second bounds that.
        connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs, limits.requestTimeoutMs),
        keepAliveTimeout: 5_000,
      },
      (req, res) => this.handle(req, res),
    );
    // Node answers an expectation other than 100-continue with its own bare 417 unless someone listens:
    // the pipeline's expectation stage answers it instead, with the request id and a JSON body.
    this.server.on("checkExpectation", (req, res) => this.handle(req, res));
    // A port in use rejects here (EADDRINUSE) rather than crashing the process; the CLI says so in one line.
    await listenOn(this.server, port, host);
    this.generation.table.startProbes();
    return this.server.address() as AddressInfo;
  }

  /** Swaps in a new configuration without dropping requests in flight. */
  async reload(spec: SpecV1, source: BackendSource): Promise<void> {
    const next: Generation = { table: this.compile(spec, source), inFlight: 0, retired: false };
    if (this.server?.listening) next.table.startProbes();
    const previous = this.generation;
    this.generation = next;
    previous.retired = true;
    if (previous.inFlight === 0) await previous.table.close();
    this.log.info({ routes: next.table.routes.size }, "configuration reloaded");
  }

  /** Reloads through `reloadFrom` (SIGHUP, admin endpoint). */
  async reloadFromSource(): Promise<void> {
    if (!this.options.reloadFrom) throw new Error("this gateway has no configuration source to reload from");
    const { spec, source } = await this.options.reloadFrom();
    await this.reload(spec, source);
  }

  /** Stops accepting, finishes requests in flight, closes backends (the Redis client is its composer's to close). */
  async close(): Promise<void> {
    await closeGracefully(this.server);
    await this.generation.table.close();
  }

  /**
   * The hot path skips express's router: app routes go straight to the
   * dispatcher (a map lookup), and only the operational endpoints (health,
   * metrics, admin) go through express.
   */
  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? "/";
    if (url.startsWith(HEALTH_PATHS.live) || url.startsWith(HEALTH_PATHS.ready) || url.startsWith("/metrics") || url.startsWith("/admin/"))
      this.app(req as never, res as never);
    else void this.dispatch(req, res);
  }

  private compile(spec: SpecV1, source: BackendSource): RouteTable {
    return new RouteTable(
      spec,
      this.options.settings,
      source,
      this.options.redis,
      (route, decision) => this.decisions.of(route, decision).inc(),
      this.options.backendAuth,
    );
  }

  /** Runs the stages over one exchange, on the table the request started with. */
  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const generation = this.generation;
    generation.inFlight++;
    const exchange = new Exchange(req, res, generation.table);
    const stages = this.stages;
    let failed = false;
    try {
      for (let i = 0; i < stages.length && !exchange.answered; i++) {
        // Only stages with work to wait for return a promise, so the rest cost no microtask.
        const pending = stages[i].run?.(exchange);
        if (pending) await pending;
      }
    } catch (error) {
      failed = !(error instanceof ServingError && error.code === "CLIENT_CLOSED");
      if (failed) this.sendError(error, res, exchange.record);
    } finally {
      // The client went away before its whole response (or Node timed its request out and answered
      // 408 itself): nothing more can be sent, and the record says which, for metrics and the log.
      if (!failed && res.destroyed && !res.writableFinished)
        res.statusCode =
          (req.socket.errored as NodeJS.ErrnoException | null)?.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : ERROR_STATUS.CLIENT_CLOSED;
      for (let i = 0; i < stages.length; i++) stages[i].finish?.(exchange);
      if (--generation.inFlight === 0 && generation.retired) void generation.table.close();
    }
  }

  /**
   * Sends the one error response. For a 5xx, the code and the cause (a handler's exception with its
   * stack, a model session's error, the unexpected error itself) go on the request's record, which the
   * access log writes with the request id: in the log, never in the response.
   */
  private sendError(error: unknown, res: ServerResponse, record: Pick<AccessRecord, "id" | "route" | "code" | "err" | "reason">): void {
    const { status, headers, body } = toErrorResponse(error);
    if (status >= 500) {
      record.code = body.error.code;
      const cause = error instanceof ServingError ? error.cause : error;
      if (cause !== undefined) record.err = cause;
      else if (error instanceof ServingError) record.reason = error.message;
    }
    if (res.headersSent) {
      // Mid-stream: the client sees the connection cut; the record still says how the request ended.
      res.statusCode = status;
      res.destroy();
      return;
    }
    const payload = Buffer.from(JSON.stringify(body));
    res.statusCode = status;
    for (const name in headers) res.setHeader(name, headers[name]);
    res.setHeader("content-type", "application/json; charset=utf-8");
    res.setHeader("content-length", payload.length);
    res.end(payload);
  }

  private async sendMetrics(res: express.Response): Promise<void> {
    res.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }

  private async adminReload(req: express.Request, res: express.Response): Promise<void> {
    try {
      // The key in constant time, and wrong keys limited per client address (429 once over).
      await this.adminCheck(req);
    } catch (error) {
      if (!(error instanceof ServingError)) this.log.error({ err: error, route: "admin" }, "admin request failed");
      this.sendError(error, res, { id: "-", route: "admin" });
      return;
    }
    try {
      await this.reloadFromSource();
      res.json({ reloaded: true, routes: this.generation.table.routes.size });
    } catch (error) {
      this.log.error({ err: error }, "reload failed; the previous configuration stays");
      // The cause (a path, a parse error) is for the log only: the client gets INTERNAL's fixed text.
      this.sendError(new ServingError("INTERNAL", "the reload failed"), res, { id: "-", route: "admin" });
    }
  }
}

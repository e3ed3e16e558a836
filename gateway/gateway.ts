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
import type { Tracer } from "@opentelemetry/api";
import express from "express";
import type Redis from "ioredis";
import type { Logger } from "pino";
import type { SpecV1 } from "../sdk/spec";
import type { BackendAuthFor } from "./backends/backend";
import type { GatewaySettings } from "./config";
import {
  closeGracefully,
  DEMAND_PATH,
  DEMAND_REPORT,
  DEMAND_REPORT_PATH,
  ERROR_STATUS,
  HEALTH_PATHS,
  listenOn,
  ROLLOUTS_PATH,
  ServingError,
  toErrorResponse,
} from "../runtime/contract";
import { dashboardAccess } from "./dashboard/access";
import { Dashboard } from "./dashboard/dashboard";
import { Exchange, type Stage } from "./exchange";
import type { GatewayMetrics } from "./metrics";
import { requestPipeline } from "./pipeline";
import type { AccessRecord } from "./stages/observe";
import { adminKeyCheck, demandTokenCheck, metricsTokenCheck } from "./stages/authenticate";
import { RouteTable, type BackendSource, type QueueFor } from "./route-table";
import { mountRolloutAdmin } from "./rollout/admin";
import { RolloutController } from "./rollout/controller";
import { RedisRolloutStore } from "./rollout/redis-store";
import { MemoryRolloutStore } from "./rollout/store";
import { DemandBoard, type DemandCount } from "./demand-board";
import { DemandReports, parseReport } from "./demand-reports";

/** One target's demand as DEMAND_PATH answers it: `demand` is what its scaler reads. */
function demandJson({ kind, entry, region, pending, inFlight }: DemandCount): object {
  return { kind, entry, region, pending, inFlight, demand: pending + inFlight };
}
import { MetricChildren } from "./metric-children";

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
  /** The queue of each asynchronous entry, which the composer builds (and closes). */
  queues?: QueueFor;
  /** Called by SIGHUP or POST /admin/reload to produce the next configuration. */
  reloadFrom?: () => Promise<{ spec: SpecV1; source: BackendSource }>;
  /** The clock rollout steps are timed by (epoch ms). @default Date.now */
  now?: () => number;
  /** Where request spans go (see tracing.ts), made by the composer from the `tracing` settings; none, no spans. */
  tracer?: Tracer;
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
  /** The rollouts of the routes that declare one: in Redis when the gateway has it, else in memory. */
  readonly rollouts: RolloutController;
  /** The page at /_cloudloom/ui: the app graph with this gateway's live numbers. */
  readonly dashboard: Dashboard;
  private readonly stages: readonly Stage[];
  private readonly adminCheck: (req: IncomingMessage) => Promise<void>;
  /** Held and in-flight requests, shared with the other instances through Redis. */
  private readonly demandBoard: DemandBoard;
  /** Calls to models that function pods report (DEMAND_REPORT_PATH), added to their demand. */
  private readonly demandReports: DemandReports;
  private readonly demandCheck: (req: IncomingMessage) => Promise<void>;
  /** Who may read `/metrics` and DEMAND_PATH. */
  private readonly metricsCheck: (req: IncomingMessage) => Promise<void>;
  private generation: Generation;
  private server?: Server;
  private closing?: Promise<void>;
  private readonly decisions: MetricChildren<{ inc(): void }>;

  constructor(private readonly options: GatewayOptions) {
    const { settings } = options;
    this.metrics = options.metrics;
    this.decisions = new MetricChildren((route, decision) => this.metrics.limiter.labels(route, decision));
    this.log = options.logger;
    this.stages = requestPipeline(options);
    this.adminCheck = adminKeyCheck(settings, options.redis);
    this.rollouts = new RolloutController({
      store: options.redis ? new RedisRolloutStore(options.redis, options.spec.app) : new MemoryRolloutStore(),
      metrics: this.metrics,
      logger: this.log,
      now: options.now ?? Date.now,
      settings: settings.rollouts,
    });
    this.generation = { table: this.compile(options.spec, options.source), inFlight: 0, retired: false };
    this.demandReports = new DemandReports(options.redis, options.spec.app);
    this.demandCheck = demandTokenCheck(settings, options.redis);
    // Route names, tenants' traffic and demand are nobody else's business: on the local target with no token
    // open to this machine only, exactly as the dashboard showing the same numbers is (a request relayed by a
    // proxy, or from another host with --host 0.0.0.0, is someone else's); the metrics token or the admin key otherwise.
    this.metricsCheck = dashboardAccess(
      options.source.kind === "local" && !settings.metricsToken,
      metricsTokenCheck(settings, options.redis),
    );
    this.demandBoard = new DemandBoard(
      () => this.generation.table.demand(),
      options.redis,
      options.spec.app,
      undefined,
      this.demandReports,
    );
    this.metrics.watch(() => this.generation.table);
    this.dashboard = new Dashboard({
      registry: this.metrics.registry,
      spec: () => this.spec,
      // Open to this machine on the local target; the admin key everywhere else.
      access: dashboardAccess(options.source.kind === "local", this.adminCheck),
      log: this.log,
    });
    this.app.disable("x-powered-by");
    this.app.disable("etag");
    this.app.get(HEALTH_PATHS.live, (_req, res) => void res.json({ status: "ok" }));
    this.app.get(
      HEALTH_PATHS.ready,
      (_req, res) =>
        void res
          .status(this.server?.listening ? 200 : 503)
          .json({ ready: Boolean(this.server?.listening), ...queueReadiness(this.generation.table) }),
    );
    this.app.get("/metrics", (req, res) => void this.readMetrics(req, res, "metrics", () => this.sendMetrics(res)));
    this.app.get(DEMAND_PATH, (req, res) => void this.readMetrics(req, res, "demand", () => this.sendDemand(req, res)));
    this.app.put(DEMAND_REPORT_PATH, (req, res) => void this.acceptDemandReport(req, res));
    this.app.post("/admin/reload", (req, res) => void this.adminReload(req, res));
    mountRolloutAdmin(this.app, this.rollouts, this.adminCheck, this.log);
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
    this.rollouts.start();
    this.demandBoard.start();
    this.dashboard.start();
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

  /**
   * Stops accepting, finishes requests in flight, closes backends (the Redis client is its composer's to close).
   * Closing again (a signal during a test's cleanup) waits for the same close.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // Dashboard streams never finish on their own: end them first, or the graceful close would wait for them.
      this.dashboard.close();
      await closeGracefully(this.server);
      await this.rollouts.stop();
      await this.demandBoard.stop();
      await this.generation.table.close();
    })();
    return this.closing;
  }

  /**
   * The hot path skips express's router: app routes go straight to the
   * dispatcher (a map lookup), and only the operational endpoints (health,
   * metrics, admin) go through express.
   */
  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? "/";
    if (
      url.startsWith(HEALTH_PATHS.live) ||
      url.startsWith(HEALTH_PATHS.ready) ||
      url.startsWith("/metrics") ||
      url.startsWith("/admin/") ||
      url.startsWith(ROLLOUTS_PATH) ||
      url.startsWith(DEMAND_REPORT_PATH)
    )
      this.app(req as never, res as never);
    else if (Dashboard.owns(url)) void this.dashboard.handle(req, res);
    else void this.dispatch(req, res);
  }

  /** A route table for `spec`, its rollout routes bound to their live rollouts. */
  private compile(spec: SpecV1, source: BackendSource): RouteTable {
    const table = new RouteTable(
      spec,
      this.options.settings,
      source,
      this.options.redis,
      (route, decision) => this.decisions.of(route, decision).inc(),
      this.options.backendAuth,
      (backend, region) => this.metrics.ejections.labels(backend, region).inc(),
      this.options.queues,
    );
    this.rollouts.bind(table);
    return table;
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

  /**
   * Serves one of the metrics' reads (`route` names it in the log) once the request may see it:
   * the token in constant time, wrong ones limited per client address (429 once over).
   */
  private async readMetrics(req: express.Request, res: express.Response, route: string, serve: () => Promise<void>): Promise<void> {
    try {
      await this.metricsCheck(req);
      await serve();
    } catch (error) {
      if (!(error instanceof ServingError)) this.log.error({ err: error, route }, "metrics request failed");
      this.sendError(error, res, { id: "-", route });
    }
  }

  private async sendMetrics(res: express.Response): Promise<void> {
    res.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }

  /** Held and in-flight requests of the targets that hold, over every instance (see DEMAND_PATH): every one, or the one the query names. */
  private async sendDemand(req: express.Request, res: express.Response): Promise<void> {
    const { kind, entry, region } = req.query;
    const { counts, instances } = await this.demandBoard.read();
    if (kind === undefined && entry === undefined && region === undefined) {
      res.json({ targets: counts.map(demandJson), instances });
      return;
    }
    const found = counts.find((count) => count.kind === kind && count.entry === entry && count.region === region);
    if (!found)
      this.sendError(new ServingError("NOT_FOUND", "no target that holds requests has this kind, entry and region"), res, {
        id: "-",
        route: "demand",
      });
    else res.json({ ...demandJson(found), instances });
  }

  /**
   * Takes a function pod's report of its calls to models (DEMAND_REPORT_PATH): the token first (wrong
   * ones limited per address), then a bounded JSON body naming model versions that hold here.
   */
  private async acceptDemandReport(req: express.Request, res: express.Response): Promise<void> {
    try {
      await this.demandCheck(req);
      const { source, counts } = parseReport(await reportBody(req, res), this.generation.table.reportableModels);
      await this.demandReports.accept(source, counts);
      res.status(204).end();
    } catch (error) {
      if (!(error instanceof ServingError)) this.log.error({ err: error, route: "demand-report" }, "demand report failed");
      this.sendError(error, res, { id: "-", route: "demand-report" });
    }
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

/** Parses a demand report's body as JSON, at most DEMAND_REPORT.maxBytes. */
const reportJson = express.json({ limit: DEMAND_REPORT.maxBytes, type: () => true });

/** A demand report's body: PAYLOAD_TOO_LARGE past the limit, BAD_JSON when it does not parse, INVALID_INPUT for any other reading failure. */
function reportBody(req: express.Request, res: express.Response): Promise<unknown> {
  return new Promise((resolve, reject) =>
    reportJson(req, res, (error?: unknown) => {
      const type = (error as { type?: string } | undefined)?.type;
      if (type === "entity.too.large")
        reject(new ServingError("PAYLOAD_TOO_LARGE", `a demand report is at most ${DEMAND_REPORT.maxBytes} bytes`));
      else if (type === "entity.parse.failed") reject(new ServingError("BAD_JSON", "the demand report is not JSON"));
      else if (error) reject(new ServingError("INVALID_INPUT", "the demand report could not be read"));
      else resolve(req.body);
    }),
  );
}

/** What readiness says of the asynchronous routes' queues: nothing when every one survives a restart. */
function queueReadiness(table: RouteTable): { queues?: { durable: false; warning: string } } {
  const inMemory = [...table.asyncByTag.values()].some((route) => [...route.async!.entries.values()].some((entry) => !entry.queue.durable));
  return inMemory ? { queues: { durable: false, warning: NOT_DURABLE_WARNING } } : {};
}

/** What the gateway says (at startup and in readiness) when asynchronous jobs live in its memory. */
export const NOT_DURABLE_WARNING =
  "asynchronous invocations are queued in this process's memory and are lost when it stops; start it with --redis redis://<host>:6379 (or set CLOUDLOOM_REDIS_URL) to queue them durably in Redis";

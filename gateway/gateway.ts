/**
 * The unified gateway. One express app hosts a single dispatcher that runs
 * the pipeline over a route table compiled once per configuration:
 *   request id → client address → auth → concurrency cap → rate limit →
 *   body → cache → locality + version → backend (with failover) → metrics.
 * Reloading swaps the table atomically; requests in flight finish on the
 * table they started with, whose backends close after its last request.
 */
import { timingSafeEqual, createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import Redis from "ioredis";
import pino, { type Logger } from "pino";
import type { SpecV1 } from "../sdk/spec";
import type { BackendRequest, BufferedResponse } from "./backends/backend";
import type { GatewaySettings } from "./config";
import { ServingError, toErrorResponse } from "../runtime/errors";
import { invokeBuffered, invokeStreaming, type InvokeContext } from "./invoke";
import { GatewayMetrics } from "./metrics";
import { metricsRegistry } from "../runtime/metrics";
import { accessLogger, type AccessRecord } from "./pipeline/access-log";
import { apiKeyAuthenticator } from "./pipeline/auth";
import { readBody } from "./pipeline/body";
import { cacheKey, ResponseCache, storability, type StoredResponse } from "./pipeline/cache";
import { clientAddressResolver } from "./pipeline/client-address";
import { ConcurrencyCap } from "./pipeline/concurrency";
import { localityResolver } from "./pipeline/locality";
import { requestId } from "./pipeline/request-id";
import { BACKEND_CHOOSES_VERSION, RouteTable, type BackendSource, type CompiledRoute } from "./route-table";
import { breakerStateValue, RetryBudget } from "./routing/resilience";
import { closeGracefully } from "../runtime/shutdown";
import { pickVersion } from "./routing/versions";

/** Everything a gateway serves from. */
export interface GatewayOptions {
  spec: SpecV1;
  settings: GatewaySettings;
  source: BackendSource;
  logger?: Logger;
  /** Metrics to record into (the local target shares them with its runtime). @default a new registry */
  metrics?: GatewayMetrics;
  /** Called by SIGHUP or POST /admin/reload to produce the next configuration. */
  reloadFrom?: () => Promise<{ spec: SpecV1; source: BackendSource }>;
}

interface Generation {
  table: RouteTable;
  inFlight: number;
  retired: boolean;
}

const HOP = new Set(["connection", "keep-alive", "transfer-encoding", "content-length"]);

/** A running gateway. */
export class Gateway {
  readonly app = express();
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  private readonly redis?: Redis;
  private readonly cache: ResponseCache;
  private readonly cap: ConcurrencyCap;
  private readonly budget: RetryBudget;
  private readonly authenticate: (req: IncomingMessage) => string;
  private readonly clientOf: (req: IncomingMessage) => string;
  private readonly localityOf: (req: IncomingMessage, client: string) => string | undefined;
  private readonly access: (record: AccessRecord) => void;
  private readonly adminDigest?: Buffer;
  private generation: Generation;
  /** Label children bound once per (route, region, version, status), so requests skip label hashing. */
  private readonly boundMetrics = new Map<string, { requests: { inc(): void }; latency: { observe(value: number): void } }>();
  private server?: Server;
  private turn = 0;

  constructor(private readonly options: GatewayOptions) {
    const { settings } = options;
    this.metrics = options.metrics ?? new GatewayMetrics(metricsRegistry());
    this.log = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? "info" });
    if (settings.redis)
      this.redis = new Redis(settings.redis.url, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: 1_000,
        lazyConnect: false,
        retryStrategy: (times) => Math.min(times * 200, 2_000),
      });
    this.redis?.on("error", (error) => this.log.debug({ err: error.message }, "redis"));
    this.cache = new ResponseCache(10_000, this.redis);
    this.cap = new ConcurrencyCap(settings.limits.perKeyConcurrency);
    this.budget = new RetryBudget(settings.retryBudgetPercent);
    const keys = [
      ...settings.apiKeys,
      ...(process.env.CLOUDLOOM_API_KEYS ?? "")
        .split(/[,\n]/)
        .map((k) => k.trim())
        .filter(Boolean),
    ];
    this.authenticate = apiKeyAuthenticator(keys);
    this.clientOf = clientAddressResolver(settings.trustProxyHops);
    this.localityOf = localityResolver(settings.locality);
    this.access = accessLogger(this.log, settings.logSampleRate);
    this.adminDigest = settings.adminKey ? createHash("sha256").update(settings.adminKey).digest() : undefined;
    this.generation = { table: this.compile(options.spec, options.source), inFlight: 0, retired: false };
    this.app.disable("x-powered-by");
    this.app.disable("etag");
    this.app.get("/healthz", (_req, res) => void res.json({ status: "ok" }));
    this.app.get(
      "/readyz",
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
      { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, keepAliveTimeout: 5_000 },
      (req, res) => this.handle(req, res),
    );
    await new Promise<void>((resolve) => this.server!.listen(port, host, resolve));
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

  /** Stops accepting, finishes requests in flight, closes backends and Redis. */
  async close(): Promise<void> {
    await closeGracefully(this.server);
    await this.generation.table.close();
    this.redis?.disconnect();
  }

  /**
   * The hot path skips express's router: app routes go straight to the
   * dispatcher (a map lookup), and only the operational endpoints (health,
   * metrics, admin) go through express.
   */
  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? "/";
    if (url.startsWith("/healthz") || url.startsWith("/readyz") || url.startsWith("/metrics") || url.startsWith("/admin/"))
      this.app(req as never, res as never);
    else void this.dispatch(req, res);
  }

  private compile(spec: SpecV1, source: BackendSource): RouteTable {
    return new RouteTable(spec, this.options.settings, source, this.redis, (route, decision) =>
      this.metrics.limiter.labels(route, decision).inc(),
    );
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const generation = this.generation;
    generation.inFlight++;
    const id = requestId(req);
    res.setHeader("x-request-id", id);
    const record: AccessRecord = { id, method: req.method ?? "GET", route: "unmatched", status: 0, ms: 0, tenant: "public" };
    let capKey: string | undefined;
    try {
      const url = req.url ?? "/";
      if (url.length > this.options.settings.limits.maxUrlLength)
        throw new ServingError("URI_TOO_LONG", `the URL is longer than ${this.options.settings.limits.maxUrlLength} characters`);
      const query = url.indexOf("?");
      const path = query < 0 ? url : url.slice(0, query);
      const route = generation.table.routes.get(`${req.method} ${path}`);
      if (!route)
        throw generation.table.paths.has(path)
          ? new ServingError("METHOD_NOT_ALLOWED", `${req.method} is not allowed on ${path}`)
          : new ServingError("NOT_FOUND", "no route matches this method and path");
      record.route = route.key;
      const client = this.clientOf(req);
      if (route.spec.auth === "api-key") record.tenant = this.authenticate(req);
      capKey = record.tenant === "public" ? client : record.tenant;
      this.cap.acquire(capKey);
      if (route.limiter) {
        const outcome = await route.limiter.consume(route.limiter.keyFor(record.tenant, client));
        for (const name in outcome.headers) res.setHeader(name, outcome.headers[name]);
        if (outcome.refuse) throw outcome.refuse;
      }
      const body = await readBody(req, this.options.settings.limits.bodyBytes);
      await this.serve(
        route,
        req,
        res,
        body,
        client,
        record,
        query < 0 ? {} : Object.fromEntries(new URLSearchParams(url.slice(query + 1))),
      );
    } catch (error) {
      this.sendError(error, res, record);
    } finally {
      if (capKey !== undefined) this.cap.release(capKey);
      record.status = res.statusCode;
      record.ms = performance.now() - started;
      // Where the backend picked the version, its response named it.
      if (record.version === BACKEND_CHOOSES_VERSION) record.version = String(res.getHeader("x-cloudloom-version") ?? "-");
      this.observe(record);
      if (--generation.inFlight === 0 && generation.retired) void generation.table.close();
    }
  }

  private async serve(
    route: CompiledRoute,
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    client: string,
    record: AccessRecord,
    query: Record<string, unknown>,
  ): Promise<void> {
    const version = route.split ? pickVersion(route.split, record.id) : "-";
    const target = route.targets.get(version)!;
    record.version = target.version;
    this.budget.earn();
    const ctx: InvokeContext = {
      target,
      locality: this.localityOf(req, client),
      spillBelow: this.options.settings.health.spillBelow,
      budget: this.budget,
      turn: this.turn++,
      onUpstreamError: (region, kind) => {
        this.metrics.upstreamErrors.labels(route.key, region, kind).inc();
        this.metrics.breaker.labels(route.key, region).set(breakerStateValue(target.breakers.get(region)!));
      },
    };
    const request: BackendRequest = {
      method: req.method ?? "POST",
      path: req.url ?? "/",
      headers: req.headers,
      query,
      body,
      requestId: record.id,
      tenant: record.tenant,
    };
    if (target.version !== BACKEND_CHOOSES_VERSION) res.setHeader("x-cloudloom-version", target.version);
    if (route.cache) {
      const key = cacheKey(record.tenant, route.key, request.method, body, req.headers, route.cache.vary);
      const { response, hit } = await this.cache.get(key, route.cache.ttlMs, async () => {
        const { result, region: served } = await invokeBuffered(ctx, request);
        return {
          ...result,
          headers: { ...result.headers, "x-cloudloom-region": served },
          storedAt: Date.now(),
          ...storability(result.status, result.headers),
        };
      });
      record.cache = hit ? "HIT" : response.storable ? "MISS" : "BYPASS";
      record.region = response.headers["x-cloudloom-region"];
      this.metrics.cache.labels(route.key, record.cache).inc();
      this.send(res, response, record.region, {
        "x-cache": record.cache,
        age: String(Math.max(0, Math.floor((Date.now() - response.storedAt) / 1000))),
      });
      return;
    }
    const { result, region } = await invokeStreaming(ctx, req, res, request, (region) => {
      res.setHeader("x-cloudloom-region", region);
      record.region = region;
    });
    record.region = region;
    if (typeof result !== "number") this.send(res, result, region);
  }

  private send(res: ServerResponse, response: BufferedResponse | StoredResponse, region: string, extra: Record<string, string> = {}): void {
    for (const name in response.headers) if (!HOP.has(name) && name !== "set-cookie") res.setHeader(name, response.headers[name]);
    res.setHeader("x-cloudloom-region", region);
    for (const name in extra) res.setHeader(name, extra[name]);
    res.setHeader("content-length", response.body.length);
    res.statusCode = response.status;
    res.end(response.body);
  }

  private sendError(error: unknown, res: ServerResponse, record: AccessRecord): void {
    const { status, headers, body } = toErrorResponse(error);
    if (status >= 500 && !(error instanceof ServingError))
      this.log.error({ err: error, requestId: record.id, route: record.route }, "unexpected error");
    if (res.headersSent) {
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

  private observe(record: AccessRecord): void {
    const region = record.region ?? "-";
    const key = `${record.route}|${region}|${record.version ?? "-"}|${record.status}`;
    let bound = this.boundMetrics.get(key);
    if (!bound) {
      bound = {
        requests: this.metrics.requests.labels(record.route, region, record.version ?? "-", String(record.status)),
        latency: this.metrics.latency.labels(record.route, region),
      };
      this.boundMetrics.set(key, bound);
    }
    bound.requests.inc();
    bound.latency.observe(record.ms / 1000);
    this.access(record);
  }

  private async sendMetrics(res: express.Response): Promise<void> {
    res.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }

  private async adminReload(req: express.Request, res: express.Response): Promise<void> {
    const key = req.get("x-admin-key");
    const presented = key ? createHash("sha256").update(key).digest() : undefined;
    if (!this.adminDigest || !presented || !timingSafeEqual(this.adminDigest, presented)) {
      this.sendError(new ServingError("UNAUTHORIZED", "the admin key is not valid"), res, {
        id: "-",
        method: "POST",
        route: "admin",
        status: 401,
        ms: 0,
        tenant: "admin",
      });
      return;
    }
    try {
      await this.reloadFromSource();
      res.json({ reloaded: true, routes: this.generation.table.routes.size });
    } catch (error) {
      this.log.error({ err: error }, "reload failed; the previous configuration stays");
      res.status(500).json({ error: { code: "RELOAD_FAILED", message: (error as Error).message } });
    }
  }
}

/**
 * The dashboard at /_cloudloom/ui: the page and its bundle (public, they hold
 * no data), the app graph drawn by sdk/graph with room for live numbers, and
 * one data endpoint that pushes the sampler's snapshots as Server-Sent
 * Events. The graph and the stream need access (access.ts). Streams are
 * bounded in number, skip snapshots a slow reader has not taken yet, and end
 * when the gateway closes.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { appGraph, layoutGraph, renderSvg } from "../../sdk/graph";
import type { SpecV1 } from "../../sdk/spec";
import { ServingError, toErrorResponse } from "../../runtime/contract";
import { ASSET_FILES, dashboardAssets, type AssetName } from "./assets";
import { LIVE_WIDTH, liveLineCount } from "./live-lines";
import { DASHBOARD_PATH, DASHBOARD_PATHS, PAGE_HTML, SECURITY_HEADERS } from "./page";
import { MetricsSampler } from "./sampler";

/** What a dashboard reads and who may see it. */
export interface DashboardOptions {
  registry: Registry;
  /** The spec the gateway serves now. */
  spec: () => SpecV1;
  /** Resolves when a request may see the graph and the numbers; rejects with the ServingError to send. */
  access: (req: IncomingMessage) => Promise<void>;
  log: Logger;
  /** Streams open at once, at most. @default 16 */
  maxStreams?: number;
  /** How often the numbers are sampled and pushed. @default 1000 */
  intervalMs?: number;
}

/** The graph of `spec` as the dashboard draws it: every node with room for its live lines. */
export async function dashboardSvg(spec: SpecV1): Promise<string> {
  return renderSvg(await layoutGraph(appGraph(spec), { liveLines: (node) => liveLineCount(node, spec), liveWidth: LIVE_WIDTH }));
}

/** A short id of a spec's content: pages redraw their graph when it changes. */
export function specGeneration(spec: SpecV1): string {
  return createHash("sha256").update(JSON.stringify(spec)).digest("hex").slice(0, 12);
}

/** One gateway's dashboard. */
export class Dashboard {
  readonly sampler: MetricsSampler;
  private readonly streams = new Set<ServerResponse>();
  private readonly drawings = new WeakMap<SpecV1, Promise<string>>();
  private readonly generations = new WeakMap<SpecV1, string>();

  constructor(private readonly options: DashboardOptions) {
    this.sampler = new MetricsSampler({
      registry: options.registry,
      current: () => ({ spec: options.spec(), generation: this.generation(options.spec()) }),
      intervalMs: options.intervalMs,
      warn: (error) => options.log.warn({ err: error }, "dashboard: reading the metrics failed"),
    });
  }

  /** True for paths this dashboard answers. */
  static owns(url: string): boolean {
    return url === DASHBOARD_PATH || url.startsWith(`${DASHBOARD_PATH}/`) || url.startsWith(`${DASHBOARD_PATH}?`);
  }

  /** Starts sampling (when the gateway listens). */
  start(): void {
    this.sampler.start();
  }

  /** Stops sampling and ends every stream, so the gateway's graceful close does not wait on them. */
  close(): void {
    this.sampler.stop();
    for (const stream of this.streams) stream.end();
    this.streams.clear();
  }

  /** Answers one request under DASHBOARD_PATH. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://gateway").pathname;
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    try {
      if (req.method !== "GET" && req.method !== "HEAD") {
        throw new ServingError("METHOD_NOT_ALLOWED", "the dashboard answers GET only", { allow: "GET, HEAD" });
      }
      if (path === DASHBOARD_PATHS.page || path === `${DASHBOARD_PATHS.page}/`)
        return this.send(res, "text/html; charset=utf-8", PAGE_HTML);
      if (path.startsWith(`${DASHBOARD_PATHS.assets}/`)) return await this.asset(res, path.slice(DASHBOARD_PATHS.assets.length + 1));
      if (path === DASHBOARD_PATHS.graph) {
        await this.options.access(req);
        return this.send(res, "image/svg+xml; charset=utf-8", await this.drawing(this.options.spec()), "no-store");
      }
      if (path === DASHBOARD_PATHS.events) {
        if (req.method !== "GET") throw new ServingError("METHOD_NOT_ALLOWED", "the event stream answers GET only", { allow: "GET" });
        await this.options.access(req);
        return this.stream(req, res);
      }
      throw new ServingError("NOT_FOUND", "no such dashboard path");
    } catch (error) {
      if (!(error instanceof ServingError)) this.options.log.error({ err: error }, "dashboard request failed");
      this.refuse(res, error);
    }
  }

  private send(res: ServerResponse, type: string, body: string | Buffer, cache = "no-cache"): void {
    const payload = typeof body === "string" ? Buffer.from(body) : body;
    res.statusCode = 200;
    res.setHeader("content-type", type);
    res.setHeader("content-length", payload.length);
    res.setHeader("cache-control", cache);
    res.end(res.req.method === "HEAD" ? undefined : payload);
  }

  private async asset(res: ServerResponse, name: string): Promise<void> {
    if (!Object.hasOwn(ASSET_FILES, name)) throw new ServingError("NOT_FOUND", "no such dashboard asset");
    const assets = await dashboardAssets();
    this.send(res, ASSET_FILES[name as AssetName], assets[name as AssetName]);
  }

  private refuse(res: ServerResponse, error: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const { status, headers, body } = toErrorResponse(error);
    const payload = Buffer.from(JSON.stringify(body));
    res.statusCode = status;
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    res.setHeader("content-type", "application/json; charset=utf-8");
    res.setHeader("content-length", payload.length);
    res.setHeader("cache-control", "no-store");
    res.end(payload);
  }

  private generation(spec: SpecV1): string {
    let id = this.generations.get(spec);
    if (!id) this.generations.set(spec, (id = specGeneration(spec)));
    return id;
  }

  /** The drawing of `spec`, laid out once per configuration. */
  private drawing(spec: SpecV1): Promise<string> {
    let drawing = this.drawings.get(spec);
    if (!drawing) {
      drawing = dashboardSvg(spec);
      this.drawings.set(spec, drawing);
    }
    return drawing;
  }

  /** The data endpoint: the charts so far, then a snapshot per sample, as Server-Sent Events. */
  private stream(req: IncomingMessage, res: ServerResponse): void {
    if (this.streams.size >= (this.options.maxStreams ?? 16))
      throw new ServingError("CONCURRENCY_LIMIT", "too many dashboards are open on this gateway; close one and retry", {
        "retry-after": "5",
      });
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" });
    // A proxy or the OS may hold a quiet connection's first bytes; a comment line flushes the headers through.
    res.write(": cloudloom dashboard\n\n");
    const event = (name: string, data: unknown) => res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
    event("history", this.sampler.history());
    const latest = this.sampler.latest();
    if (latest) event("snapshot", latest);
    const unsubscribe = this.sampler.subscribe((snapshot) => {
      // A reader that has not taken the last snapshot gets the next one instead: memory stays bounded.
      if (!res.writableNeedDrain) event("snapshot", snapshot);
    });
    this.streams.add(res);
    const end = () => {
      unsubscribe();
      this.streams.delete(res);
    };
    req.on("close", end);
    res.on("close", end);
  }
}

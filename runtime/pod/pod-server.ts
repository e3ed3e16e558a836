/**
 * The server inside a cluster pod: one function or model version of a spec,
 * in one region, at its internal endpoint. The gateway in front of it calls
 * `POST /_cloudloom/models/<name@version>` or `POST /_cloudloom/functions/<name>`.
 */
import { createServer, type Server } from "node:http";
import type { Tracer } from "@opentelemetry/api";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express";
import pino, { type Logger } from "pino";
import type { SpecV1 } from "../../sdk/spec";
import {
  closeGracefully,
  FC_FAILED_STATUS,
  FC_STATUS_HEADER,
  functionInvokePath,
  HEALTH_PATHS,
  INVOCATION_HEADER,
  listenOn,
  modelPredictPath,
  ServingError,
  toErrorResponse,
} from "../contract";
import { callEntry } from "../entry-call";
import { metricsRegistry, RuntimeMetrics } from "../metrics";
import { DemandReporter, ModelCallDemand, type DemandReportTarget } from "../model-call-demand";
import { LocalRuntime, type RuntimeScope } from "../runtime";
import { EntryQueues } from "../queue/entry-queues";
import type { WorkerTimings } from "../queue/bullmq-queue";
import { asyncEntries, asyncEntryKey } from "../../sdk/spec";
import { requireJwt, type JwtRequirement } from "./require-jwt";

/** What a pod serves. */
export interface PodServerOptions {
  spec: SpecV1;
  /** Handler modules and artifacts are relative to it. */
  root: string;
  scope: RuntimeScope & { only: NonNullable<RuntimeScope["only"]> };
  logger?: Logger;
  /** Request body limit. @default "1mb" */
  bodyLimit?: string;
  /**
   * Also answer SageMaker's container contract: `GET /ping` (readiness) and
   * `POST /invocations` (the entry's endpoint).
   */
  sagemaker?: boolean;
  /** Serve only calls carrying the gateway's JWT (a pod reachable from outside its cluster). */
  jwt?: JwtRequirement;
  /** The Deployment this pod belongs to, which labels its in-flight gauge. @default the entry's name */
  workload?: string;
  /** Where the pod's spans go (its composer made it from the OTEL_* variables); none, no spans. */
  tracer?: Tracer;
  /**
   * The Redis of the app's queues (`CLOUDLOOM_REDIS_URL`). When the pod's
   * entry is asynchronous and this is its home region, the pod works the
   * entry's queue: the workers of an asynchronous entry are its own pods.
   */
  queueRedisUrl?: string;
  /** Worker timings of that queue (tests shorten them). */
  queueTimings?: WorkerTimings;
  /**
   * Where a function pod reports its calls to models that hold requests
   * (CLOUDLOOM_DEMAND_REPORT_URL and CLOUDLOOM_DEMAND_TOKEN), so they count
   * in those models' demand at the gateway and wake them from zero.
   */
  demandReport?: DemandReportTarget;
}

/** A running pod server. */
export class PodServer {
  readonly app = express();
  readonly runtime: LocalRuntime;
  readonly metrics = new RuntimeMetrics(metricsRegistry());
  /** The entry's queue workers, when the pod works one. */
  readonly queues: EntryQueues | undefined;
  /** Reports the function's calls to models that hold to the gateway, when the pod has where to. */
  readonly demandReporter: DemandReporter | undefined;
  private readonly log: Logger;
  private server: Server | undefined;

  constructor(options: PodServerOptions) {
    const { spec, scope } = options;
    this.log = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? "info" });
    const modelCalls = options.demandReport && scope.only.kind === "function" ? new ModelCallDemand() : undefined;
    this.demandReporter = modelCalls && new DemandReporter(modelCalls, options.demandReport!, (message) => this.log.warn(message));
    this.runtime = new LocalRuntime(
      spec,
      options.root,
      this.metrics.events((message) => this.log.warn(message)),
      { ...scope, modelCalls },
      options.tracer,
    );
    this.metrics.watch(this.runtime);
    const entries = scope.only.kind === "model" ? spec.models : spec.functions;
    const region = scope.region ?? entries[scope.only.name].regions[0];
    const model = scope.only.kind === "model" ? spec.models[scope.only.name] : undefined;
    this.queues = this.queueWorkers(options, region);
    // Every call in flight counts toward the gauge the pod's autoscaler reads, errors included.
    const inflight = this.metrics.inflight.labels(options.workload ?? scope.only.name);
    // A model pod also answers on its model's version-less path: behind a backend that
    // splits traffic between versions (an FC alias), the caller does not know which it reaches.
    const paths = model ? [modelPredictPath(scope.only.name), modelPredictPath(model.name)] : [functionInvokePath(scope.only.name)];
    this.app.disable("x-powered-by");
    this.app.use(express.raw({ type: () => true, limit: options.bodyLimit ?? "1mb" }));
    this.app.get(HEALTH_PATHS.live, (_req, res) => void res.json({ status: "ok" }));
    const ready = (_req: Request, res: Response) =>
      void res.status(this.runtime.unavailable.size === 0 ? 200 : 503).json({ unavailable: Object.fromEntries(this.runtime.unavailable) });
    this.app.get(options.sagemaker ? [HEALTH_PATHS.ready, "/ping"] : HEALTH_PATHS.ready, ready);
    this.app.get(
      "/metrics",
      async (_req, res) => void res.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics()),
    );
    const guard: RequestHandler[] = options.jwt ? [requireJwt(options.jwt)] : [];
    this.app.post(
      options.sagemaker ? [...paths, "/invocations"] : paths,
      ...guard,
      async (req: Request, res: Response, next: NextFunction) => {
        try {
          inflight.inc();
          const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
          const requestId = req.get("x-request-id") ?? "-";
          const response = await callEntry(this.runtime, scope.only.kind, scope.only.name, region, {
            method: req.method,
            path: req.path,
            headers: req.headers,
            query: req.query,
            body,
            requestId,
          });
          res.status(response.status).set(response.headers).set(attemptOutcome(req, response.status));
          if (model) res.set("x-cloudloom-version", model.version);
          res.send(response.body);
        } catch (error) {
          next(error);
        } finally {
          inflight.dec();
        }
      },
    );
    this.app.use((_req, _res, next) => next(new ServingError("NOT_FOUND", "this pod serves only its internal endpoint")));
    this.app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
      const known =
        (error as { type?: string })?.type === "entity.too.large"
          ? new ServingError("PAYLOAD_TOO_LARGE", "the request body is larger than the limit")
          : error;
      const { status, headers, body } = toErrorResponse(known);
      // The cause (a handler's exception with its stack, the model session's error) goes to the log
      // with the request id the gateway sent, never to the client.
      if (status >= 500)
        this.log.error(
          {
            err: (known as { cause?: unknown }).cause ?? known,
            requestId: req.get("x-request-id") ?? "-",
            code: body.error.code,
            path: req.path,
          },
          `request failed: ${body.error.code}`,
        );
      res.status(status).set(headers).set(attemptOutcome(req, status)).json(body);
    });
  }

  /** The workers of the pod's entry's queue, when the entry is asynchronous, queued in this region, and the pod has the queue's Redis. */
  private queueWorkers(options: PodServerOptions, region: string): EntryQueues | undefined {
    const { spec, scope } = options;
    const entry = asyncEntries(spec).get(asyncEntryKey(scope.only.kind, scope.only.name));
    if (!entry || entry.region !== region) return undefined;
    if (!options.queueRedisUrl) {
      this.log.warn(
        `${scope.only.kind} ${scope.only.name} is asynchronous, but no queue Redis is set (CLOUDLOOM_REDIS_URL): this pod works no jobs`,
      );
      return undefined;
    }
    return new EntryQueues(this.runtime, {
      redisUrl: options.queueRedisUrl,
      logger: this.log,
      only: scope.only,
      workOnly: true,
      timings: options.queueTimings,
    });
  }

  /**
   * Warms the floor, then listens. Its queue's workers connect on their own
   * (`queues.ready()` says when): a Redis that is down holds back the jobs,
   * not the pod's synchronous calls.
   */
  async listen(port: number, host = "127.0.0.1"): Promise<AddressInfo> {
    await this.runtime.warm();
    const server = createServer(this.app);
    try {
      await listenOn(server, port, host);
    } catch (error) {
      // A port in use: unload what warm() loaded, so the process can exit with the CLI's message.
      await this.runtime.close();
      throw error;
    }
    this.server = server;
    this.demandReporter?.start();
    return server.address() as AddressInfo;
  }

  /** Finishes the jobs and requests in flight, then unloads. */
  async close(): Promise<void> {
    await Promise.all([this.queues?.close(), closeGracefully(this.server)]);
    await this.demandReporter?.stop();
    await this.runtime.close();
  }
}

/**
 * What a 5xx answer to an asynchronous attempt Function Compute runs (the
 * gateway marks each with INVOCATION_HEADER) adds: the header that fails
 * FC's attempt, which FC otherwise counts as a success whatever its status,
 * so that FC retries it and, after the last, sends it to the dead letter.
 */
function attemptOutcome(req: Request, status: number): Record<string, string> {
  return status >= 500 && req.get(INVOCATION_HEADER) ? { [FC_STATUS_HEADER]: FC_FAILED_STATUS } : {};
}

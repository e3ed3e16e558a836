/**
 * The embedded local target: the whole app on one machine, behind the same
 * gateway pipeline a cloud deployment gets (auth, limits, cache, locality,
 * canary), with the in-process runtime as every route's backend. It composes
 * what the gateway is handed: one metrics registry and one tracer shared with
 * the runtime, so a request's trace runs from the gateway into the handler and
 * the model's batcher.
 */
import type { AddressInfo } from "node:net";
import type { Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { Gateway, GatewaySettings } from "../gateway";
import { callEntry, EntryQueues, LocalRuntime, metricsRegistry, RuntimeMetrics, type EntryQueuesOptions, type Tracing } from "../runtime";
import type { SpecV1 } from "../sdk/spec";
import { cliLogger, composeGateway, gatewayTracing, type ComposedGateway } from "./compose-gateway";

/** What a local target serves. */
export interface LocalTargetOptions {
  spec: SpecV1;
  /** The app's root: handler modules and artifacts are relative to it. */
  root: string;
  settings: GatewaySettings;
  logger?: Logger;
  /** A tracer to use (and leave open) instead of the one the settings and the environment describe. */
  tracer?: Tracer;
  /** Worker timings of the asynchronous entries' BullMQ queues (tests shorten them). */
  queueTimings?: EntryQueuesOptions["timings"];
}

/**
 * A gateway and the runtime behind it, with the asynchronous entries' queues
 * worked by that runtime: on the settings' Redis when there is one (BullMQ,
 * durable), in memory otherwise.
 */
export class LocalTarget {
  readonly runtime: LocalRuntime;
  readonly gateway: Gateway;
  /** The asynchronous entries' queues. */
  readonly queues: EntryQueues;
  private readonly composed: ComposedGateway;
  /** The tracing the local target opened (none when it was handed a tracer, or traces nothing). */
  private readonly tracing: Tracing | undefined;

  constructor(options: LocalTargetOptions) {
    const logger = options.logger ?? cliLogger();
    const registry = metricsRegistry();
    this.tracing = options.tracer ? undefined : gatewayTracing(options.settings, process.env, options.spec.app, logger);
    const tracer = options.tracer ?? this.tracing?.tracer;
    const metrics = new RuntimeMetrics(registry);
    this.runtime = new LocalRuntime(
      options.spec,
      options.root,
      metrics.events((message) => logger.warn(message)),
      {},
      tracer,
    );
    metrics.watch(this.runtime);
    this.queues = new EntryQueues(this.runtime, { redisUrl: options.settings.redis?.url, logger, timings: options.queueTimings });
    try {
      this.composed = composeGateway({
        spec: options.spec,
        settings: options.settings,
        source: {
          kind: "local",
          call: (kind, entry, region, request) => callEntry(this.runtime, kind, entry, region, request),
          // A pool at zero is a cold start: the gateway holds its requests (within the policy's hold) while one instance loads.
          instances: (kind, entry, region) =>
            kind === "model" ? this.runtime.modelHost(entry, region) : this.runtime.functionHost(entry, region),
        },
        queues: (entry) => this.queues.queueFor(entry),
        registry,
        logger,
        tracer,
      });
    } catch (error) {
      void this.tracing?.shutdown();
      throw error;
    }
    this.gateway = this.composed.gateway;
  }

  /** Warms every pool's floor, then listens; when it cannot (a port in use), unloads again and rethrows. */
  async listen(port: number, host = "127.0.0.1"): Promise<AddressInfo> {
    await this.runtime.warm();
    try {
      await this.queues.ready();
      return await this.gateway.listen(port, host);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Finishes requests in flight and the jobs running now, then unloads the runtime and exports the spans left. */
  async close(): Promise<void> {
    await this.composed.close();
    await this.queues.close();
    await this.runtime.close();
    await this.tracing?.shutdown();
  }
}

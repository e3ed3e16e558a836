/**
 * The embedded local target: the whole app on one machine, behind the same
 * gateway pipeline a cloud deployment gets (auth, limits, cache, locality,
 * canary), with the in-process runtime as every route's backend. It composes
 * what the gateway is handed: one metrics registry shared with the runtime.
 */
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Gateway, GatewaySettings } from "../gateway";
import { callEntry, EntryQueues, LocalRuntime, metricsRegistry, RuntimeMetrics, type EntryQueuesOptions } from "../runtime";
import type { SpecV1 } from "../sdk/spec";
import { cliLogger, composeGateway, type ComposedGateway } from "./compose-gateway";

/** What a local target serves. */
export interface LocalTargetOptions {
  spec: SpecV1;
  /** The app's root: handler modules and artifacts are relative to it. */
  root: string;
  settings: GatewaySettings;
  logger?: Logger;
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

  constructor(options: LocalTargetOptions) {
    const logger = options.logger ?? cliLogger();
    const registry = metricsRegistry();
    this.runtime = new LocalRuntime(
      options.spec,
      options.root,
      new RuntimeMetrics(registry).events((message) => logger.warn(message)),
    );
    this.queues = new EntryQueues(this.runtime, { redisUrl: options.settings.redis?.url, logger, timings: options.queueTimings });
    this.composed = composeGateway({
      spec: options.spec,
      settings: options.settings,
      source: { kind: "local", call: (kind, entry, region, request) => callEntry(this.runtime, kind, entry, region, request) },
      queues: (entry) => this.queues.queueFor(entry),
      registry,
      logger,
    });
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

  /** Finishes requests in flight and the jobs running now, then unloads the runtime. */
  async close(): Promise<void> {
    await this.composed.close();
    await this.queues.close();
    await this.runtime.close();
  }
}

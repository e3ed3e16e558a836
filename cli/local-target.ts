/**
 * The embedded local target: the whole app on one machine, behind the same
 * gateway pipeline a cloud deployment gets (auth, limits, cache, locality,
 * canary), with the in-process runtime as every route's backend. It composes
 * what the gateway is handed: one metrics registry shared with the runtime.
 */
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Gateway, GatewaySettings } from "../gateway";
import { callEntry, LocalRuntime, metricsRegistry, RuntimeMetrics } from "../runtime";
import type { SpecV1 } from "../sdk/spec";
import { cliLogger, composeGateway, type ComposedGateway } from "./compose-gateway";

/** What a local target serves. */
export interface LocalTargetOptions {
  spec: SpecV1;
  /** The app's root: handler modules and artifacts are relative to it. */
  root: string;
  settings: GatewaySettings;
  logger?: Logger;
}

/** A gateway and the runtime behind it. */
export class LocalTarget {
  readonly runtime: LocalRuntime;
  readonly gateway: Gateway;
  private readonly composed: ComposedGateway;

  constructor(options: LocalTargetOptions) {
    const logger = options.logger ?? cliLogger();
    const registry = metricsRegistry();
    const metrics = new RuntimeMetrics(registry);
    this.runtime = new LocalRuntime(
      options.spec,
      options.root,
      metrics.events((message) => logger.warn(message)),
    );
    metrics.watch(this.runtime);
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
      registry,
      logger,
    });
    this.gateway = this.composed.gateway;
  }

  /** Warms every pool's floor, then listens; when it cannot (a port in use), unloads again and rethrows. */
  async listen(port: number, host = "127.0.0.1"): Promise<AddressInfo> {
    await this.runtime.warm();
    try {
      return await this.gateway.listen(port, host);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Finishes requests in flight, then unloads the runtime. */
  async close(): Promise<void> {
    await this.composed.close();
    await this.runtime.close();
  }
}

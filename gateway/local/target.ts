/**
 * The embedded local target: the whole app on one machine, behind the same
 * gateway pipeline a cloud deployment gets (auth, limits, cache, locality,
 * canary), with the in-process runtime as every route's backend.
 */
import type { AddressInfo } from "node:net";
import pino, { type Logger } from "pino";
import type { SpecV1 } from "../../sdk/spec";
import type { GatewaySettings } from "../config";
import { Gateway } from "../gateway";
import { GatewayMetrics } from "../metrics";
import { LocalRuntime, metricsEvents } from "./runtime";

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

  constructor(options: LocalTargetOptions) {
    const logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? "info" });
    const metrics = new GatewayMetrics();
    this.runtime = new LocalRuntime(
      options.spec,
      options.root,
      metricsEvents(metrics, (message) => logger.warn(message)),
    );
    this.gateway = new Gateway({
      metrics,
      spec: options.spec,
      settings: options.settings,
      source: { kind: "local", runtime: this.runtime },
      logger,
    });
  }

  /** Warms every pool's floor, then listens. */
  async listen(port: number, host = "127.0.0.1"): Promise<AddressInfo> {
    await this.runtime.warm();
    return this.gateway.listen(port, host);
  }

  /** Finishes requests in flight, then unloads the runtime. */
  async close(): Promise<void> {
    await this.gateway.close();
    await this.runtime.close();
  }
}

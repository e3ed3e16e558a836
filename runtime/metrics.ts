/** Prometheus metrics of the runtime (cold starts, pre-warms, batches), on a registry it is handed. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { INFLIGHT_METRIC } from "./contract";
import type { PoolOccupancy, RuntimeEvents } from "./runtime";

/** A registry with the process's default metrics, prefixed `cloudloom_`: one per process, shared by everything in it. */
export function metricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "cloudloom_" });
  return registry;
}

/** The runtime's metric families. */
export class RuntimeMetrics {
  readonly coldStarts: Histogram<"entry" | "region">;
  readonly prewarms: Counter<"entry" | "region">;
  readonly warmIdleSeconds: Counter<"entry" | "region">;
  readonly batchSize: Histogram<"model">;
  readonly inflight: Gauge<"deployment">;
  readonly instances: Gauge<"entry" | "region">;
  readonly queueDepth: Gauge<"model" | "region">;
  /** The pools the two gauges above report: the runtime's, once it is watched. */
  private pools: () => Iterable<PoolOccupancy> = () => [];

  constructor(readonly registry: Registry) {
    const registers = [registry];
    this.coldStarts = new Histogram({
      name: "cloudloom_cold_start_seconds",
      help: "Cold start duration by entry and region.",
      labelNames: ["entry", "region"] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.prewarms = new Counter({
      name: "cloudloom_prewarms_total",
      help: "Instances the keep-alive policy loaded ahead of a predicted call, by entry and region.",
      labelNames: ["entry", "region"] as const,
      registers,
    });
    this.warmIdleSeconds = new Counter({
      name: "cloudloom_warm_idle_seconds_total",
      help: "Seconds instances stayed loaded without serving (wasted warm time), by entry and region.",
      labelNames: ["entry", "region"] as const,
      registers,
    });
    this.inflight = new Gauge({
      name: INFLIGHT_METRIC,
      help: "Requests a pod is serving now, by deployment: what its autoscaler (HPA or KEDA) scales on.",
      labelNames: ["deployment"] as const,
      registers,
    });
    this.batchSize = new Histogram({
      name: "cloudloom_model_batch_size",
      help: "Samples per model batch.",
      labelNames: ["model"] as const,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers,
    });
    const pools = () => this.pools();
    this.instances = new Gauge({
      name: "cloudloom_warm_instances",
      help: "Instances loaded now (warm), by entry (function or name@version) and region.",
      labelNames: ["entry", "region"] as const,
      registers,
      collect() {
        this.reset();
        for (const pool of pools()) this.labels(pool.entry, pool.region).set(pool.instances);
      },
    });
    this.queueDepth = new Gauge({
      name: "cloudloom_model_queue_depth",
      help: "Requests waiting for a batch, by model version and region.",
      labelNames: ["model", "region"] as const,
      registers,
      collect() {
        this.reset();
        for (const pool of pools()) if (pool.queueDepth !== undefined) this.labels(pool.entry, pool.region).set(pool.queueDepth);
      },
    });
  }

  /** Reports `runtime`'s pools in the instances and queue-depth gauges from now on. */
  watch(runtime: { occupancy(): Iterable<PoolOccupancy> }): this {
    this.pools = () => runtime.occupancy();
    return this;
  }

  /** Runtime events recorded in these metrics, warnings in `warn`. */
  events(warn: (message: string) => void): RuntimeEvents {
    return {
      onColdStart: (entry, region, ms) => this.coldStarts.labels(entry, region).observe(ms / 1000),
      onBatch: (model, size) => this.batchSize.labels(model).observe(size),
      onPrewarm: (entry, region) => this.prewarms.labels(entry, region).inc(),
      onWarmIdle: (entry, region, seconds) => this.warmIdleSeconds.labels(entry, region).inc(seconds),
      warn,
    };
  }
}

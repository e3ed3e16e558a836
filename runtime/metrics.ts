/**
 * Prometheus metrics of the runtime (calls and cold starts, pre-warms, model
 * batches and queues), on a registry it is handed. Queue depths are read when
 * scraped, so serving a request costs them nothing.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { INFLIGHT_METRIC, METRIC_NAMES } from "./contract";
import type { PoolOccupancy, QueueDepth, RuntimeEvents } from "./runtime";

/** A registry with the process's default metrics, prefixed `cloudloom_`: one per process, shared by everything in it. */
export function metricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "cloudloom_" });
  return registry;
}

/**
 * The runtime's metric families. Two of them are the numbers the pre-warm
 * benchmark scores a policy by (`npm run bench:prewarm`), so live traffic can
 * be held against the replay: the share of calls that start cold
 * (`cloudloom_cold_start_share`, from `cloudloom_pool_calls_total`) and warm
 * idle memory-time (`cloudloom_warm_idle_megabyte_seconds_total`).
 */
export class RuntimeMetrics {
  readonly coldStarts: Histogram<"entry" | "region">;
  readonly calls: Counter<"entry" | "region" | "start">;
  readonly coldStartShare: Gauge<"entry" | "region">;
  readonly prewarms: Counter<"entry" | "region">;
  readonly warmIdleSeconds: Counter<"entry" | "region">;
  readonly warmIdleMegabyteSeconds: Counter<"entry" | "region">;
  readonly batchSize: Histogram<"model">;
  readonly inflight: Gauge<"deployment">;
  readonly invocations: Counter<"entry" | "region" | "start">;
  readonly queueDuration: Histogram<"model" | "region">;
  readonly queueDepth: Gauge<"model" | "region">;
  /** What reads the model queues' depths; set by the runtime these metrics watch. */
  private readQueues: () => QueueDepth[] = () => [];
  /** Calls and cold calls per entry and region, for the share. */
  private readonly tallies = new Map<string, { calls: number; cold: number }>();
  readonly instances: Gauge<"entry" | "region">;
  /** The pools the instances gauge reports: the runtime's, once it is watched. */
  private pools: () => Iterable<PoolOccupancy> = () => [];

  constructor(readonly registry: Registry) {
    const registers = [registry];
    this.invocations = new Counter({
      name: METRIC_NAMES.invocations,
      help: "Calls served (function invocations, model samples) by entry and region; start is cold when a call waited for an instance to start.",
      labelNames: ["entry", "region", "start"] as const,
      registers,
    });
    this.queueDuration = new Histogram({
      name: METRIC_NAMES.modelQueueDuration,
      help: "Time requests waited in a model's batch queue, by model and region.",
      labelNames: ["model", "region"] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    const readQueues = () => this.readQueues();
    this.queueDepth = new Gauge({
      name: METRIC_NAMES.modelQueueDepth,
      help: "Requests waiting in a model's batch queue now, by model and region.",
      labelNames: ["model", "region"] as const,
      registers,
      collect() {
        for (const { model, region, depth } of readQueues()) this.labels(model, region).set(depth);
      },
    });
    this.coldStarts = new Histogram({
      name: "cloudloom_cold_start_seconds",
      help: "Cold start duration by entry and region.",
      labelNames: ["entry", "region"] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.calls = new Counter({
      name: "cloudloom_pool_calls_total",
      help: "Calls an instance pool served (a model's batches), by entry, region and start: cold when the call had to start its instance.",
      labelNames: ["entry", "region", "start"] as const,
      registers,
    });
    this.coldStartShare = new Gauge({
      name: "cloudloom_cold_start_share",
      help: "Share of the calls an instance pool served that started cold, since the process started (the pre-warm benchmark's cold-start share).",
      labelNames: ["entry", "region"] as const,
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
    this.warmIdleMegabyteSeconds = new Counter({
      name: "cloudloom_warm_idle_megabyte_seconds_total",
      help: "Memory (MB) times seconds instances stayed loaded without serving, by entry and region (the pre-warm benchmark's memory-weighted waste).",
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
  }

  /** Reports `runtime`'s pools in the instances gauge from now on. */
  watch(runtime: { occupancy(): Iterable<PoolOccupancy> }): this {
    this.pools = () => runtime.occupancy();
    return this;
  }

  /** Runtime events recorded in these metrics, warnings in `warn`. */
  events(warn: (message: string) => void): RuntimeEvents {
    return {
      onColdStart: (entry, region, ms) => this.coldStarts.labels(entry, region).observe(ms / 1000),
      onCall: (entry, region, cold) => this.recordCall(entry, region, cold),
      onBatch: (model, size) => this.batchSize.labels(model).observe(size),
      onServed: (entry, region, calls, cold) => this.invocations.labels(entry, region, cold ? "cold" : "warm").inc(calls),
      onQueueWait: (model, region, ms) => this.queueDuration.labels(model, region).observe(ms / 1000),
      watchQueues: (read) => {
        this.readQueues = read;
      },
      onPrewarm: (entry, region) => this.prewarms.labels(entry, region).inc(),
      onWarmIdle: (entry, region, seconds, memoryMb) => {
        this.warmIdleSeconds.labels(entry, region).inc(seconds);
        this.warmIdleMegabyteSeconds.labels(entry, region).inc(seconds * memoryMb);
      },
      warn,
    };
  }

  /** Counts a call and updates its entry's cold-start share. */
  private recordCall(entry: string, region: string, cold: boolean): void {
    this.calls.labels(entry, region, cold ? "cold" : "warm").inc();
    const key = `${entry}\u0000${region}`;
    const tally = this.tallies.get(key) ?? { calls: 0, cold: 0 };
    tally.calls++;
    if (cold) tally.cold++;
    this.tallies.set(key, tally);
    this.coldStartShare.labels(entry, region).set(tally.cold / tally.calls);
  }
}

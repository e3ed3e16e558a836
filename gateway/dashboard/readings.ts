/**
 * The one place the dashboard knows metric names and labels: it reads the
 * gateway's (and, on the local target, the runtime's) Prometheus registry
 * into plain cumulative readings. When a metric is renamed (for example to
 * OpenTelemetry's semantic-convention names), only the table below changes.
 */
import type { Registry } from "prom-client";
import { HTTP_LABELS, METRIC_NAMES } from "../../runtime/contract";

/** Where each reading comes from: the metric's name and the labels the dashboard reads. */
export const METRIC_SOURCES = {
  /** OpenTelemetry's `http.server.request.duration`: its `_count` series counts requests, its buckets give latency. */
  requests: {
    name: METRIC_NAMES.httpServerDuration,
    method: HTTP_LABELS.method,
    route: HTTP_LABELS.route,
    version: "version",
    status: HTTP_LABELS.status,
    unitMs: 1_000,
  },
  cache: { name: "cloudloom_cache_total", route: "route", result: "result", hit: "HIT", miss: "MISS" },
  limiter: { name: "cloudloom_rate_limit_decisions_total", route: "route", decision: "decision", limited: "limited" },
  breaker: { name: "cloudloom_breaker_state", route: "route", region: "region" },
  failovers: { name: "cloudloom_failovers_total", route: "route", region: "region" },
  ejections: { name: "cloudloom_backend_ejections_total", backend: "backend", region: "region" },
  healthy: { name: "cloudloom_backend_healthy", backend: "backend", region: "region" },
  warm: { name: "cloudloom_warm_instances", entry: "entry", region: "region" },
  queue: { name: "cloudloom_model_queue_depth", model: "model", region: "region" },
  coldStarts: { name: "cloudloom_cold_start_seconds", entry: "entry", region: "region" },
  prewarms: { name: "cloudloom_prewarms_total", entry: "entry", region: "region" },
  batchSize: { name: "cloudloom_model_batch_size", model: "model" },
} as const;

/** Cumulative numbers of one route. */
export interface RouteReading {
  requests: number;
  /** Responses with a 5xx status. */
  errors: number;
  /** Requests per model version the route's split sent them to. */
  byVersion: Record<string, number>;
  /** Cumulative latency histogram over every region: upper bound in ms (Infinity last) to count. */
  latency: Array<[le: number, count: number]>;
  cacheHits: number;
  cacheMisses: number;
  limited: number;
}

/** One reading of every number the dashboard shows, as the registry holds them (counters cumulative). */
export interface Readings {
  routes: Record<string, RouteReading>;
  /** Keyed `route|region`. */
  breakers: Record<string, number>;
  /** Keyed `route|region`: failovers away from that region. */
  failovers: Record<string, number>;
  /** Keyed `kind:entry|region`. */
  ejections: Record<string, number>;
  /** Keyed `kind:entry|region`: 1 in service, 0 ejected. */
  healthy: Record<string, number>;
  /** Keyed `entry|region` (function name or model key). */
  warm: Record<string, number>;
  queue: Record<string, number>;
  coldStarts: Record<string, number>;
  prewarms: Record<string, number>;
  /** Per model key: samples and batches run. */
  batches: Record<string, { samples: number; batches: number }>;
}

type Labels = Record<string, string | number | undefined>;
interface Value {
  value: number;
  labels: Labels;
  metricName?: string;
}

async function values(registry: Registry, name: string): Promise<Value[]> {
  const metric = registry.getSingleMetric(name);
  return metric ? ((await metric.get()).values as Value[]) : [];
}

const str = (value: string | number | undefined) => String(value ?? "-");

function add(record: Record<string, number>, key: string, value: number): void {
  record[key] = (record[key] ?? 0) + value;
}

function emptyRoute(): RouteReading {
  return { requests: 0, errors: 0, byVersion: {}, latency: [], cacheHits: 0, cacheMisses: 0, limited: 0 };
}

/** Sums `name`'s series into `record`, keyed by the labels `keys` name. */
async function sumBy(registry: Registry, name: string, keys: readonly string[], record: Record<string, number>, metricName = name) {
  for (const v of await values(registry, name))
    if (v.metricName === undefined || v.metricName === metricName) add(record, keys.map((k) => str(v.labels[k])).join("|"), v.value);
}

/** Readings of a registry nothing was recorded in: the baseline before the first sample. */
export function emptyReadings(): Readings {
  return {
    routes: {},
    breakers: {},
    failovers: {},
    ejections: {},
    healthy: {},
    warm: {},
    queue: {},
    coldStarts: {},
    prewarms: {},
    batches: {},
  };
}

/** Reads every number of `registry` the dashboard shows. */
export async function readMetrics(registry: Registry): Promise<Readings> {
  const s = METRIC_SOURCES;
  const routes: Record<string, RouteReading> = {};
  const route = (labels: Labels, key: string) => (routes[str(labels[key])] ??= emptyRoute());

  // The histogram labels a route by method and path; the dashboard keys routes as the spec does, `<METHOD> <path>`.
  const routeKey = (labels: Labels) => `${str(labels[s.requests.method])} ${str(labels[s.requests.route])}`;
  const buckets = new Map<string, Map<number, number>>();
  for (const { labels, value, metricName } of await values(registry, s.requests.name)) {
    if (labels[s.requests.route] === "") continue; // requests that matched no route
    if (metricName === `${s.requests.name}_count`) {
      const reading = (routes[routeKey(labels)] ??= emptyRoute());
      reading.requests += value;
      if (Number(labels[s.requests.status]) >= 500) reading.errors += value;
      add(reading.byVersion, str(labels[s.requests.version]), value);
    } else if (metricName === `${s.requests.name}_bucket`) {
      const key = routeKey(labels);
      const le = labels.le === "+Inf" ? Infinity : Number(labels.le) * s.requests.unitMs;
      const byLe = buckets.get(key) ?? new Map<number, number>();
      byLe.set(le, (byLe.get(le) ?? 0) + value);
      buckets.set(key, byLe);
    }
  }
  for (const [key, byLe] of buckets) (routes[key] ??= emptyRoute()).latency = [...byLe].sort(([a], [b]) => a - b);
  for (const { labels, value } of await values(registry, s.cache.name)) {
    const result = labels[s.cache.result];
    if (result === s.cache.hit) route(labels, s.cache.route).cacheHits += value;
    else if (result === s.cache.miss) route(labels, s.cache.route).cacheMisses += value;
  }
  for (const { labels, value } of await values(registry, s.limiter.name))
    if (labels[s.limiter.decision] === s.limiter.limited) route(labels, s.limiter.route).limited += value;

  const readings: Readings = { ...emptyReadings(), routes };
  await sumBy(registry, s.breaker.name, [s.breaker.route, s.breaker.region], readings.breakers);
  await sumBy(registry, s.failovers.name, [s.failovers.route, s.failovers.region], readings.failovers);
  await sumBy(registry, s.ejections.name, [s.ejections.backend, s.ejections.region], readings.ejections);
  await sumBy(registry, s.healthy.name, [s.healthy.backend, s.healthy.region], readings.healthy);
  await sumBy(registry, s.warm.name, [s.warm.entry, s.warm.region], readings.warm);
  await sumBy(registry, s.queue.name, [s.queue.model, s.queue.region], readings.queue);
  await sumBy(registry, s.coldStarts.name, [s.coldStarts.entry, s.coldStarts.region], readings.coldStarts, `${s.coldStarts.name}_count`);
  await sumBy(registry, s.prewarms.name, [s.prewarms.entry, s.prewarms.region], readings.prewarms);
  for (const { labels, value, metricName } of await values(registry, s.batchSize.name)) {
    const batch = (readings.batches[str(labels[s.batchSize.model])] ??= { samples: 0, batches: 0 });
    if (metricName === `${s.batchSize.name}_sum`) batch.samples += value;
    else if (metricName === `${s.batchSize.name}_count`) batch.batches += value;
  }
  return readings;
}

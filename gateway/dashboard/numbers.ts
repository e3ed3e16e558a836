/**
 * Turns cumulative readings into the numbers the dashboard shows: counts,
 * ratios and quantiles over the window (latest reading minus the one at the
 * window's start), rates over the last few seconds, for every entry of the
 * spec (an entry without traffic shows zeros, not nothing).
 */
import type { RouteSpec, SpecV1 } from "../../sdk/spec";
import { bucketDelta, histogramQuantile } from "./quantile";
import type { Readings, RouteReading } from "./readings";
import {
  BREAKER_STATES,
  type BackendNumbers,
  type DashboardSnapshot,
  type EntryNumbers,
  type ModelNumbers,
  type RegionNumbers,
  type RouteNumbers,
  type SeriesPoint,
} from "./snapshot";

/** A reading and when it was taken (epoch ms). */
export interface Sample {
  at: number;
  readings: Readings;
}

const delta = (now: number | undefined, then: number | undefined) => Math.max(0, (now ?? 0) - (then ?? 0));
/** Rates to two decimals: the charts need no more, and the stream stays small. */
const rate = (value: number) => Math.round(value * 100) / 100;
const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : null);

/** The model keys (or function name) a route sends traffic to. */
function routeEntries(route: RouteSpec): string[] {
  return route.target.kind === "function"
    ? [route.target.name]
    : Object.keys(route.target.weights).map((version) => `${route.target.name}@${version}`);
}

function routeWindow(now: RouteReading | undefined, then: RouteReading | undefined) {
  const requests = delta(now?.requests, then?.requests);
  const latency = bucketDelta(now?.latency ?? [], then?.latency);
  return {
    requests,
    errors: delta(now?.errors, then?.errors),
    latency,
    hits: delta(now?.cacheHits, then?.cacheHits),
    misses: delta(now?.cacheMisses, then?.cacheMisses),
    limited: delta(now?.limited, then?.limited),
  };
}

/** The chart point of `latest`, from the change since `rateBase` (RATE_SECONDS earlier). */
export function seriesPoint(spec: SpecV1, latest: Sample, rateBase: Sample): SeriesPoint {
  const seconds = Math.max(1, (latest.at - rateBase.at) / 1000);
  const point: SeriesPoint = { t: latest.at, rps: {}, p99Ms: {}, errorsPerSecond: {}, queueDepth: {} };
  for (const key of Object.keys(spec.routes)) {
    const change = routeWindow(latest.readings.routes[key], rateBase.readings.routes[key]);
    const p99 = histogramQuantile(0.99, change.latency);
    point.rps[key] = rate(change.requests / seconds);
    point.errorsPerSecond[key] = rate(change.errors / seconds);
    point.p99Ms[key] = p99 === null ? null : rate(p99);
  }
  for (const [key, model] of Object.entries(spec.models))
    point.queueDepth[key] = model.regions.reduce((sum, region) => sum + (latest.readings.queue[`${key}|${region}`] ?? 0), 0);
  return point;
}

/**
 * The snapshot of `latest`: totals, ratios and quantiles since `windowBase`,
 * rates from `point` (see seriesPoint).
 */
export function snapshotOf(spec: SpecV1, generation: string, latest: Sample, windowBase: Sample, point: SeriesPoint): DashboardSnapshot {
  const now = latest.readings;
  const then = windowBase.readings;
  const routes: Record<string, RouteNumbers> = {};
  const failoversFrom = (route: string, region: string) => delta(now.failovers[`${route}|${region}`], then.failovers[`${route}|${region}`]);
  for (const key of Object.keys(spec.routes)) {
    const window = routeWindow(now.routes[key], then.routes[key]);
    routes[key] = {
      rps: point.rps[key],
      requests: window.requests,
      errorRate: ratio(window.errors, window.requests),
      p50Ms: histogramQuantile(0.5, window.latency),
      p99Ms: histogramQuantile(0.99, window.latency),
      cacheHitRatio: ratio(window.hits, window.hits + window.misses),
      limited: window.limited,
      failovers: Object.keys(spec.regions).reduce((sum, region) => sum + failoversFrom(key, region), 0),
    };
  }

  const routesTo = (entry: string) => Object.entries(spec.routes).filter(([, route]) => routeEntries(route).includes(entry));
  const backend = (kind: "function" | "model", entry: string, region: string): BackendNumbers => {
    const reaching = routesTo(entry).map(([key]) => key);
    const healthy = now.healthy[`${kind}:${entry}|${region}`];
    const state = Math.max(0, ...reaching.map((route) => now.breakers[`${route}|${region}`] ?? 0));
    return {
      healthy: healthy === undefined ? null : healthy > 0,
      breaker: BREAKER_STATES[Math.min(BREAKER_STATES.length - 1, state)],
      ejections: delta(now.ejections[`${kind}:${entry}|${region}`], then.ejections[`${kind}:${entry}|${region}`]),
      failovers: reaching.reduce((sum, route) => sum + failoversFrom(route, region), 0),
    };
  };
  const pools = (kind: "function" | "model", entry: string, regions: readonly string[]): EntryNumbers => {
    const known = (record: Record<string, number>) => regions.some((region) => `${entry}|${region}` in record);
    const sum = (record: Record<string, number>, base?: Record<string, number>) =>
      known(record)
        ? regions.reduce((total, region) => total + delta(record[`${entry}|${region}`], base?.[`${entry}|${region}`]), 0)
        : null;
    return {
      warm: sum(now.warm),
      coldStarts: sum(now.coldStarts, then.coldStarts),
      prewarms: known(now.warm) ? (sum(now.prewarms, then.prewarms) ?? 0) : null,
      regions: Object.fromEntries(regions.map((region) => [region, backend(kind, entry, region)])),
    };
  };

  const functions = Object.fromEntries(Object.entries(spec.functions).map(([name, fn]) => [name, pools("function", name, fn.regions)]));
  const models: Record<string, ModelNumbers> = {};
  for (const [key, model] of Object.entries(spec.models)) {
    const batches = now.batches[key];
    const before = then.batches[key];
    models[key] = {
      ...pools("model", key, model.regions),
      queueDepth: model.regions.some((region) => `${key}|${region}` in now.queue) ? point.queueDepth[key] : null,
      batchSize: ratio(delta(batches?.samples, before?.samples), delta(batches?.batches, before?.batches)),
      weights: routesTo(key).map(([route, spec]) => {
        const window = routeWindow(now.routes[route], then.routes[route]);
        const served = delta(now.routes[route]?.byVersion[model.version], then.routes[route]?.byVersion[model.version]);
        const weights = spec.target.kind === "model" ? spec.target.weights : {};
        const observed = ratio(served, window.requests);
        return { route, declared: weights[model.version] ?? 0, observed: observed === null ? null : observed * 100 };
      }),
    };
  }

  const regions: Record<string, RegionNumbers> = {};
  for (const region of Object.keys(spec.regions)) {
    const backends = [
      ...Object.values(functions).map((fn) => fn.regions[region]),
      ...Object.values(models).map((model) => model.regions[region]),
    ].filter((b): b is BackendNumbers => b !== undefined && b.healthy !== null);
    regions[region] = {
      up: backends.filter((b) => b.healthy).length,
      total: backends.length,
      failovers: Object.keys(spec.routes).reduce((sum, route) => sum + failoversFrom(route, region), 0),
    };
  }
  return { at: latest.at, generation, routes, functions, models, regions, point };
}

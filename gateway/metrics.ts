/**
 * Prometheus metrics of one gateway, on the registry it is handed (the local
 * target shares one with its runtime). Requests are OpenTelemetry's
 * `http.server.request.duration` in Prometheus form: one histogram whose
 * count is the request counter.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { HTTP_LABELS, METRIC_NAMES } from "../runtime/contract";

/** Label names of the request histogram: OpenTelemetry's HTTP attributes, then cloudloom's region and version. */
export type RequestLabel = (typeof HTTP_LABELS)[keyof typeof HTTP_LABELS] | "region" | "version";

/** The bucket boundaries OpenTelemetry's HTTP semantic conventions advise for request durations, in seconds. */
export const REQUEST_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** What the health and breaker gauges read when scraped: the live state of a configuration (RouteTable). */
export interface LiveState {
  backendHealth(): Iterable<{ backend: string; region: string; healthy: boolean }>;
  /** 0 closed, 1 half-open, 2 open, per route and region. */
  breakerStates(): Iterable<{ route: string; region: string; state: number }>;
}

/** The gateway's metric families. */
export class GatewayMetrics {
  readonly requests: Histogram<RequestLabel>;
  readonly limiter: Counter<"route" | "decision">;
  readonly cache: Counter<"route" | "result">;
  readonly breaker: Gauge<"route" | "region">;
  readonly upstreamErrors: Counter<"route" | "region" | "kind">;
  readonly rolloutStep: Gauge<"route">;
  readonly rolloutWeight: Gauge<"route" | "version">;
  readonly rolloutPhase: Gauge<"route" | "phase">;
  readonly rolloutTransitions: Counter<"route" | "transition">;
  readonly ejections: Counter<"backend" | "region">;
  readonly failovers: Counter<"route" | "region">;
  readonly backendHealthy: Gauge<"backend" | "region">;
  /** The configuration whose backends and breakers the gauges report: the gateway's current one. */
  private current: () => LiveState = () => ({ backendHealth: () => [], breakerStates: () => [] });

  constructor(readonly registry: Registry) {
    const registers = [registry];
    this.requests = new Histogram({
      name: METRIC_NAMES.httpServerDuration,
      help: "Duration of HTTP server requests, by method, route, status, region and version.",
      labelNames: [HTTP_LABELS.method, HTTP_LABELS.route, HTTP_LABELS.status, "region", "version"] as const,
      buckets: REQUEST_DURATION_BUCKETS,
      registers,
    });
    this.limiter = new Counter({
      name: "cloudloom_rate_limit_decisions_total",
      help: "Rate limiter decisions by route (allowed, limited, store-failed-open|closed|local).",
      labelNames: ["route", "decision"] as const,
      registers,
    });
    this.cache = new Counter({
      name: "cloudloom_cache_total",
      help: "Cache results by route (HIT, MISS, BYPASS).",
      labelNames: ["route", "result"] as const,
      registers,
    });
    const current = () => this.current();
    this.breaker = new Gauge({
      name: "cloudloom_breaker_state",
      help: "Circuit breaker state by route and region: 0 closed, 1 half-open, 2 open.",
      labelNames: ["route", "region"] as const,
      registers,
      // Read when scraped, so a breaker that closed again (or half-opened) since its last failure shows so.
      collect() {
        this.reset();
        for (const { route, region, state } of current().breakerStates()) this.labels(route, region).set(state);
      },
    });
    this.upstreamErrors = new Counter({
      name: "cloudloom_upstream_errors_total",
      help: "Upstream failures by route, region and kind.",
      labelNames: ["route", "region", "kind"] as const,
      registers,
    });
    this.rolloutStep = new Gauge({
      name: "cloudloom_rollout_step",
      help: "The current step (from 1) of the rollout on each route, as this instance serves it.",
      labelNames: ["route"] as const,
      registers,
    });
    this.rolloutWeight = new Gauge({
      name: "cloudloom_rollout_weight_percent",
      help: "Percent of a rollout route's traffic each model version gets, as this instance serves it.",
      labelNames: ["route", "version"] as const,
      registers,
    });
    this.rolloutPhase = new Gauge({
      name: "cloudloom_rollout_phase",
      help: "1 for the phase each route's rollout is in (progressing, paused, succeeded, rolled-back, aborted), 0 for the others.",
      labelNames: ["route", "phase"] as const,
      registers,
    });
    this.rolloutTransitions = new Counter({
      name: "cloudloom_rollout_transitions_total",
      help: "Rollout transitions this instance made, by route and transition (started, advanced, succeeded, rolled-back, paused, resumed, aborted).",
      labelNames: ["route", "transition"] as const,
      registers,
    });
    this.ejections = new Counter({
      name: "cloudloom_backend_ejections_total",
      help: "Backends ejected by outlier detection or a failed probe, by backend (kind:entry) and region.",
      labelNames: ["backend", "region"] as const,
      registers,
    });
    this.failovers = new Counter({
      name: "cloudloom_failovers_total",
      help: "Requests moved on to another region after the region they tried failed, by route and the region that failed.",
      labelNames: ["route", "region"] as const,
      registers,
    });
    this.backendHealthy = new Gauge({
      name: "cloudloom_backend_healthy",
      help: "1 while a backend (kind:entry, region) is in service, 0 while it is ejected.",
      labelNames: ["backend", "region"] as const,
      registers,
      collect() {
        this.reset();
        for (const { backend, region, healthy } of current().backendHealth()) this.labels(backend, region).set(healthy ? 1 : 0);
      },
    });
  }

  /** Reports the backends and breakers of `current()` from now on (the gateway hands over its current configuration). */
  watch(current: () => LiveState): void {
    this.current = current;
  }
}

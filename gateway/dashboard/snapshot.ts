/**
 * What the dashboard's one data endpoint sends: numbers per route, per
 * backend and region, per model version and per region, and one point of the
 * time series. Plain JSON; it never holds an API key, a JWT, a tenant or a
 * request body, only names from the spec and counts. Shared by the server
 * and the page (gateway/ui), which imports the types alone.
 */

/** How far back the ratios, quantiles and totals look, and how long the charts are. */
export const WINDOW_SECONDS = 15 * 60;
/** How far back the rates ("now") look. */
export const RATE_SECONDS = 10;

/** Numbers of one route over the window (rates over the last RATE_SECONDS). */
export interface RouteNumbers {
  /** Requests per second now. */
  rps: number;
  requests: number;
  /** Share of 5xx responses, or null without requests. */
  errorRate: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Hits over hits and misses, or null without a cache lookup (or without a cache). */
  cacheHitRatio: number | null;
  /** Requests the rate limit refused. */
  limited: number;
  /** Requests that moved on to another region after one failed. */
  failovers: number;
}

/** Breaker states, as the gauge numbers them (0, 1, 2). */
export const BREAKER_STATES = ["closed", "half-open", "open"] as const;

/** One backend (a function or model version in one region). */
export interface BackendNumbers {
  /** In service (true), ejected (false), or unknown to this gateway (null). */
  healthy: boolean | null;
  breaker: (typeof BREAKER_STATES)[number];
  ejections: number;
  failovers: number;
}

/** A function's or model version's pools, where this process runs them (the local target); null where it does not know. */
export interface EntryNumbers {
  warm: number | null;
  coldStarts: number | null;
  prewarms: number | null;
  /** Per region the entry is placed in. */
  regions: Record<string, BackendNumbers>;
}

/** A model version: its pools, batches and the weights routes give it. */
export interface ModelNumbers extends EntryNumbers {
  queueDepth: number | null;
  /** Mean samples per batch, or null without a batch. */
  batchSize: number | null;
  /** Per route that splits traffic to it: the declared weight and the share it got (null without requests), in percent. */
  weights: Array<{ route: string; declared: number; observed: number | null }>;
}

/** A region: how many backends placed there are in service, and failovers away from it. */
export interface RegionNumbers {
  up: number;
  total: number;
  failovers: number;
}

/** One point of the charts: per route and per model, at `t` (epoch ms). */
export interface SeriesPoint {
  t: number;
  rps: Record<string, number>;
  p99Ms: Record<string, number | null>;
  errorsPerSecond: Record<string, number>;
  queueDepth: Record<string, number>;
}

/** Everything the page shows at one moment. */
export interface DashboardSnapshot {
  at: number;
  /** Changes when the gateway reloads a different spec: the page redraws its graph. */
  generation: string;
  routes: Record<string, RouteNumbers>;
  functions: Record<string, EntryNumbers>;
  models: Record<string, ModelNumbers>;
  regions: Record<string, RegionNumbers>;
  point: SeriesPoint;
}

/** Chart points as columns: one array of times, and per chart per series one array of values (far smaller than points in JSON). */
export interface SeriesColumns {
  t: number[];
  rps: Record<string, number[]>;
  p99Ms: Record<string, Array<number | null>>;
  errorsPerSecond: Record<string, number[]>;
  queueDepth: Record<string, number[]>;
}

/** The first message of a stream: the charts' points so far. */
export interface DashboardHistory {
  generation: string;
  columns: SeriesColumns;
}

const CHARTED = ["rps", "p99Ms", "errorsPerSecond", "queueDepth"] as const;

/** `points` as columns (the series of the latest point; a series a point lacks is null there). */
export function toColumns(points: readonly SeriesPoint[]): SeriesColumns {
  const latest = points[points.length - 1];
  const columns = { t: points.map((p) => p.t) } as SeriesColumns;
  for (const chart of CHARTED) {
    const names = latest ? Object.keys(latest[chart]) : [];
    (columns[chart] as Record<string, Array<number | null>>) = Object.fromEntries(
      names.map((name) => [name, points.map((p) => (p[chart] as Record<string, number | null>)[name] ?? null)]),
    );
  }
  return columns;
}

/** The points of `columns` (the inverse of toColumns). */
export function fromColumns(columns: SeriesColumns): SeriesPoint[] {
  return columns.t.map((t, i) => {
    const point = { t } as SeriesPoint;
    for (const chart of CHARTED)
      (point[chart] as Record<string, number | null>) = Object.fromEntries(
        Object.entries(columns[chart] as Record<string, Array<number | null>>).map(([name, values]) => [name, values[i]]),
      );
    return point;
  });
}

/**
 * Reads the metrics registry once a second and keeps the last fifteen
 * minutes of readings and chart points in memory (a few hundred small
 * objects), so a page that connects gets its charts at once and every
 * connected page gets the same snapshot without reading the registry again.
 */
import type { Registry } from "prom-client";
import type { SpecV1 } from "../../sdk/spec";
import { seriesPoint, snapshotOf, type Sample } from "./numbers";
import { emptyReadings, readMetrics } from "./readings";
import { RATE_SECONDS, toColumns, WINDOW_SECONDS, type DashboardHistory, type DashboardSnapshot, type SeriesPoint } from "./snapshot";

/** What the sampler reads and how often. */
export interface SamplerOptions {
  registry: Registry;
  /** The spec served now and its generation id. */
  current: () => { spec: SpecV1; generation: string };
  /** @default 1000 */
  intervalMs?: number;
  /** Told when a reading fails (the sampler goes on). */
  warn?: (error: unknown) => void;
  /** @default Date.now */
  now?: () => number;
}

/** The dashboard's sampler: one per gateway, started when it listens. */
export class MetricsSampler {
  private readonly samples: Sample[] = [];
  private readonly points: SeriesPoint[] = [];
  private readonly listeners = new Set<(snapshot: DashboardSnapshot) => void>();
  /** Before the first reading, everything the registry counted happened after this. */
  private readonly origin: Sample;
  private readonly now: () => number;
  private timer?: NodeJS.Timeout;
  private reading = false;
  private last?: DashboardSnapshot;

  constructor(private readonly options: SamplerOptions) {
    this.now = options.now ?? Date.now;
    this.origin = { at: this.now(), readings: emptyReadings() };
  }

  /** Samples now and then every interval (the timer never keeps the process alive). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sample(), this.options.intervalMs ?? 1_000);
    this.timer.unref();
    void this.sample();
  }

  /** Stops sampling. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The latest snapshot, once there is one. */
  latest(): DashboardSnapshot | undefined {
    return this.last;
  }

  /** The chart points of the window so far. */
  history(): DashboardHistory {
    return { generation: this.options.current().generation, columns: toColumns(this.points) };
  }

  /** Calls `listener` with every new snapshot until the returned function is called. */
  subscribe(listener: (snapshot: DashboardSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes one reading now and tells every listener; a reading still running (a loaded machine) is not doubled. */
  async sample(): Promise<DashboardSnapshot | undefined> {
    if (this.reading) return undefined;
    this.reading = true;
    try {
      const { spec, generation } = this.options.current();
      const latest = { at: this.now(), readings: await readMetrics(this.options.registry) };
      this.samples.push(latest);
      this.forget(latest.at - WINDOW_SECONDS * 1000);
      const point = seriesPoint(spec, latest, this.baseline(latest.at - RATE_SECONDS * 1000));
      this.points.push(point);
      while (this.points.length > 0 && this.points[0].t < latest.at - WINDOW_SECONDS * 1000) this.points.shift();
      this.last = snapshotOf(spec, generation, latest, this.baseline(latest.at - WINDOW_SECONDS * 1000), point);
      for (const listener of this.listeners) listener(this.last);
      return this.last;
    } catch (error) {
      this.options.warn?.(error);
      return undefined;
    } finally {
      this.reading = false;
    }
  }

  /** The last reading at or before `cutoff`; before the first one, the registry's empty origin. */
  private baseline(cutoff: number): Sample {
    let base = this.origin;
    for (const sample of this.samples) {
      if (sample.at > cutoff) break;
      base = sample;
    }
    return base;
  }

  /** Drops readings no window needs: all but the last one at or before `cutoff`. */
  private forget(cutoff: number): void {
    while (this.samples.length > 1 && this.samples[1].at <= cutoff) this.samples.shift();
  }
}

/**
 * Keep-alive and pre-warm policies. After each invocation a policy chooses
 * a window: unload now and load again `prewarm` minutes later (0 = stay
 * loaded), then keep the instance for `keepAlive` minutes. Every window says
 * why it was chosen.
 */

/** What a policy decides after an invocation. */
export interface Window {
  /** Minutes to stay unloaded before loading again (0: stay loaded). */
  prewarm: number;
  /** Minutes to keep the instance loaded after that. */
  keepAlive: number;
  /** Why, in words a person can check. */
  reason: string;
}

/** A policy for one unit (function or app); it learns from the idle times it observes. */
export interface KeepAlivePolicy {
  readonly name: string;
  /** Records the minutes between two consecutive invocations. */
  observe(idleMinutes: number): void;
  /** The window after an invocation. */
  decide(): Window;
}

/** Keeps every instance loaded for a fixed number of minutes. */
export class FixedKeepAlive implements KeepAlivePolicy {
  readonly name: string;
  constructor(private readonly minutes: number) {
    this.name = `fixed-${minutes}`;
  }
  observe(): void {}
  decide(): Window {
    return { prewarm: 0, keepAlive: this.minutes, reason: `fixed keep-alive of ${this.minutes} minutes` };
  }
}

/** Histogram range of the hybrid policy: 4 hours of 1-minute bins. */
export const HISTOGRAM_MINUTES = 240;

/** The p-th percentile (0–100) of a histogram of idle minutes. */
export function histogramPercentile(bins: readonly number[], p: number): number {
  const total = bins.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (let minute = 0; minute < bins.length; minute++) {
    seen += bins[minute];
    if (seen >= (p / 100) * total) return minute;
  }
  return bins.length - 1;
}

/** Coefficient of variation of the bin counts; a flat histogram predicts nothing. */
export function binVariation(bins: readonly number[]): number {
  const mean = bins.reduce((a, b) => a + b, 0) / bins.length;
  if (mean === 0) return 0;
  const variance = bins.reduce((sum, count) => sum + (count - mean) ** 2, 0) / bins.length;
  return Math.sqrt(variance) / mean;
}

/**
 * The hybrid histogram policy of "Serverless in the Wild" (Shahrad et al.,
 * USENIX ATC 2020): pre-warm at the 5th percentile of idle times minus 10 %,
 * keep warm until the 99th percentile plus 10 %; a 4-hour keep-alive when
 * the histogram is not representative; a forecast of the next idle time when
 * most idle times fall beyond the histogram.
 */
export class HybridHistogram implements KeepAlivePolicy {
  readonly name = "hybrid";
  private readonly bins = new Array<number>(HISTOGRAM_MINUTES).fill(0);
  private outOfBounds: number[] = [];
  private samples = 0;

  constructor(private readonly minSamples = 5) {}

  observe(idleMinutes: number): void {
    this.samples++;
    if (idleMinutes >= HISTOGRAM_MINUTES) this.outOfBounds.push(idleMinutes);
    else this.bins[idleMinutes]++;
  }

  decide(): Window {
    if (this.samples > 0 && this.outOfBounds.length / this.samples > 0.5) {
      const predicted = this.outOfBounds.reduce((a, b) => a + b, 0) / this.outOfBounds.length;
      return {
        prewarm: Math.floor(predicted * 0.85),
        keepAlive: Math.ceil(predicted * 0.3),
        reason: `most idle times exceed 4 h; forecast ${predicted.toFixed(0)} min, pre-warm at 85 % of it`,
      };
    }
    if (this.samples < this.minSamples || binVariation(this.bins) < 2) {
      return {
        prewarm: 0,
        keepAlive: HISTOGRAM_MINUTES,
        reason: `histogram not representative (${this.samples} idle times, CV ${binVariation(this.bins).toFixed(2)}); standard 4 h keep-alive`,
      };
    }
    const head = histogramPercentile(this.bins, 5);
    const tail = histogramPercentile(this.bins, 99);
    const prewarm = Math.floor(head * 0.9);
    const keepAlive = Math.max(1, Math.ceil(tail * 1.1) - prewarm);
    return {
      prewarm,
      keepAlive,
      reason: `idle times p5 ${head} min, p99 ${tail} min: pre-warm after ${prewarm} min, keep ${keepAlive} min`,
    };
  }
}

/** Tunables of cloudloom's policy. */
export interface CloudloomPolicyOptions {
  /** Idle times remembered. */
  window: number;
  /** Idle times needed before the percentile window replaces the fallback. */
  minSamples: number;
  /** Minutes kept warm while there is too little history. */
  fallbackKeepAlive: number;
  /** Percentiles of recent idle times that bound the window. */
  lower: number;
  upper: number;
  /** Fraction added to the upper bound (and taken off the lower). */
  margin: number;
  /** Minutes kept warm around a predicted periodic call. */
  periodicKeepAlive: number;
  /**
   * The unit's memory against a reference memory (e.g. the fleet's median):
   * a heavier unit gets a shorter fallback, a lighter one a longer, by the
   * square root of the ratio, so warm memory-minutes are spent where they
   * are cheap. Omitted: no scaling.
   */
  memory?: { unitMb: number; referenceMb: number };
}

/** Bounds of the memory-scaled fallback keep-alive, in minutes. */
const FALLBACK_BOUNDS = { min: 10, max: 480 };

/** The defaults, chosen by a sweep on the shared trace (bench/prewarm.ts). */
export const CLOUDLOOM_DEFAULTS: CloudloomPolicyOptions = {
  window: 30,
  minSamples: 11,
  fallbackKeepAlive: 110,
  lower: 0.1,
  upper: 0.75,
  margin: 0.05,
  periodicKeepAlive: 4,
};

/**
 * cloudloom's policy:
 * - a unit whose recent idle times agree within a minute is periodic (timers,
 *   cron-like clients). It learns that from two idle times, then unloads and
 *   pre-warms 2 minutes before the next period;
 * - with fewer than `minSamples` idle times and no period, a fallback
 *   keep-alive (110 minutes, shorter than the hybrid's 4 hours), scaled by
 *   the unit's memory: a cost model that spends warm minutes where they are
 *   cheap;
 * - otherwise the recent idle times bound the window, from p10 − 5 % to
 *   p75 + 5 %, which trims the tail the hybrid keeps for rare outliers.
 * The defaults come from a sweep on the shared trace (see the README).
 */
export class CloudloomPolicy implements KeepAlivePolicy {
  readonly name = "cloudloom";
  private readonly history: number[] = [];

  private readonly options: CloudloomPolicyOptions;

  constructor(options: Partial<CloudloomPolicyOptions> = {}) {
    this.options = { ...CLOUDLOOM_DEFAULTS, ...options };
  }

  observe(idleMinutes: number): void {
    this.history.push(idleMinutes);
    if (this.history.length > this.options.window) this.history.shift();
  }

  /** The fallback keep-alive, scaled by the unit's memory when it is known. */
  private fallback(): number {
    const { fallbackKeepAlive, memory } = this.options;
    if (!memory) return fallbackKeepAlive;
    const scaled = Math.round(fallbackKeepAlive * Math.sqrt(memory.referenceMb / memory.unitMb));
    return Math.min(FALLBACK_BOUNDS.max, Math.max(FALLBACK_BOUNDS.min, scaled));
  }

  decide(): Window {
    const recent = this.history.slice(-3);
    const median = [...recent].sort((a, b) => a - b)[Math.floor(recent.length / 2)];
    if (recent.length >= 2 && median > 3 && recent.every((idle) => Math.abs(idle - median) <= 1)) {
      return {
        prewarm: median - 2,
        keepAlive: this.options.periodicKeepAlive,
        reason: `periodic: the last ${recent.length} idle times are ${median} ± 1 min; pre-warm 2 min before the next call`,
      };
    }
    if (this.history.length < this.options.minSamples) {
      const keep = this.fallback();
      return { prewarm: 0, keepAlive: keep, reason: `${this.history.length} idle time(s) and no period yet; keep ${keep} min` };
    }
    const sorted = [...this.history].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
    const { lower, upper, margin } = this.options;
    const prewarm = Math.floor(at(lower) * (1 - margin));
    const keepAlive = Math.min(HISTOGRAM_MINUTES, Math.max(2, Math.ceil(at(upper) * (1 + margin)) - prewarm));
    return {
      prewarm,
      keepAlive,
      reason: `idle times p${lower * 100} ${at(lower)} min, p${upper * 100} ${at(upper)} min over the last ${sorted.length}: pre-warm after ${prewarm} min, keep ${keepAlive} min`,
    };
  }
}

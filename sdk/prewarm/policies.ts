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
export function histogramPercentile(bins: ArrayLike<number>, total: number, p: number): number {
  let seen = 0;
  for (let minute = 0; minute < bins.length; minute++) {
    seen += bins[minute];
    if (seen >= (p / 100) * total) return minute;
  }
  return bins.length - 1;
}

/** Tunables of the hybrid histogram policy. */
export interface HybridOptions {
  /** Percentile of idle times (0–100) the pre-warm waits for. */
  headPercentile: number;
  /** Percentile of idle times (0–100) the instance stays warm until. */
  tailPercentile: number;
  /** Fraction taken off the head and added to the tail. */
  margin: number;
  /** Coefficient of variation of the bin counts below which the histogram is not representative. */
  minVariation: number;
  /** Idle times observed before the histogram is trusted at all (0: trust it from the first one). */
  minSamples: number;
  /** Minutes kept warm while the histogram is not representative. */
  fallbackKeepAlive: number;
}

/**
 * The paper's parameters: p5 − 10 % to p99 + 10 %, CV 2, a 4-hour fallback;
 * the 5-sample wait before trusting a histogram is this replay's reading of
 * "too few idle times".
 */
export const HYBRID_PAPER: HybridOptions = {
  headPercentile: 5,
  tailPercentile: 99,
  margin: 0.1,
  minVariation: 2,
  minSamples: 5,
  fallbackKeepAlive: HISTOGRAM_MINUTES,
};

/**
 * The hybrid histogram policy of "Serverless in the Wild" (Shahrad et al.,
 * USENIX ATC 2020, §4.2): pre-warm at the head percentile of idle times minus
 * the margin, keep warm until the tail percentile plus the margin; a fixed
 * keep-alive while the histogram is not representative; a forecast of the
 * next idle time when most idle times fall beyond the histogram (the paper
 * uses ARIMA there; the mean of those idle times stands in for it).
 */
export class HybridHistogram implements KeepAlivePolicy {
  readonly name = "hybrid";
  private readonly options: HybridOptions;
  private readonly bins = new Int32Array(HISTOGRAM_MINUTES);
  /** Sum of the squared bin counts, kept as bins grow, so the CV costs no scan. */
  private squares = 0;
  private inBins = 0;
  private outOfBounds = 0;
  private outOfBoundsSum = 0;

  constructor(options: Partial<HybridOptions> = {}) {
    this.options = { ...HYBRID_PAPER, ...options };
  }

  observe(idleMinutes: number): void {
    if (idleMinutes >= HISTOGRAM_MINUTES) {
      this.outOfBounds++;
      this.outOfBoundsSum += idleMinutes;
      return;
    }
    this.squares += 2 * this.bins[idleMinutes] + 1;
    this.bins[idleMinutes]++;
    this.inBins++;
  }

  /** Coefficient of variation of the bin counts; a flat histogram predicts nothing. */
  variation(): number {
    const mean = this.inBins / HISTOGRAM_MINUTES;
    if (mean === 0) return 0;
    return Math.sqrt(Math.max(0, this.squares / HISTOGRAM_MINUTES - mean * mean)) / mean;
  }

  decide(): Window {
    const samples = this.inBins + this.outOfBounds;
    if (samples > 0 && this.outOfBounds / samples > 0.5) {
      const predicted = this.outOfBoundsSum / this.outOfBounds;
      return {
        prewarm: Math.floor(predicted * 0.85),
        keepAlive: Math.ceil(predicted * 0.3),
        reason: `most idle times exceed 4 h; forecast ${predicted.toFixed(0)} min, pre-warm at 85 % of it`,
      };
    }
    const { headPercentile, tailPercentile, margin, minVariation, minSamples, fallbackKeepAlive } = this.options;
    const variation = this.variation();
    if (this.inBins === 0 || samples < minSamples || variation < minVariation) {
      return {
        prewarm: 0,
        keepAlive: fallbackKeepAlive,
        reason: `histogram not representative (${samples} idle times, CV ${variation.toFixed(2)}); keep-alive of ${fallbackKeepAlive} min`,
      };
    }
    const head = histogramPercentile(this.bins, this.inBins, headPercentile);
    const tail = histogramPercentile(this.bins, this.inBins, tailPercentile);
    const prewarm = Math.floor(head * (1 - margin));
    const keepAlive = Math.max(1, Math.ceil(tail * (1 + margin)) - prewarm);
    return {
      prewarm,
      keepAlive,
      reason: `idle times p${headPercentile} ${head} min, p${tailPercentile} ${tail} min: pre-warm after ${prewarm} min, keep ${keepAlive} min`,
    };
  }
}

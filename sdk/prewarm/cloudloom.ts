/**
 * cloudloom's keep-alive and pre-warm policy, and the defaults the
 * benchmark's sweep chose for it on tuning data (bench/prewarm.ts).
 */
import { ArrivalPeriod, type PeriodPrediction } from "./arrival-period";
import { cheapestWindow } from "./cost-window";
import { HISTOGRAM_MINUTES, type KeepAlivePolicy, type Window } from "./policies";
import { RecentIdleTimes } from "./recent-idle";

/** Tunables of cloudloom's policy. */
export interface CloudloomPolicyOptions {
  /** Idle times remembered. */
  window: number;
  /** Idle times needed before the history decides the window instead of the fallback. */
  minSamples: number;
  /** Minutes kept warm while there is too little history, for a unit of `referenceMb`. */
  fallbackKeepAlive: number;
  /**
   * How the window is chosen once there is history: between two percentiles
   * of the recent idle times (`lower`, `upper`), or where the expected cost
   * of idle memory and cold starts is lowest (`coldCost`).
   */
  rule: "percentile" | "cost";
  /** Percentiles (0–1) of recent idle times that bound the window (rule `percentile`). */
  lower: number;
  upper: number;
  /** Price of a cold start, in idle minutes of a `referenceMb` unit (rule `cost`). */
  coldCost: number;
  /** Fraction added to the window's end (and taken off its start). */
  margin: number;
  /** Minutes kept warm around a predicted periodic call. */
  periodicKeepAlive: number;
  /**
   * Period predictions from the arrival times (several timers of one period
   * superposed) that must come true in a row before the policy acts on one;
   * 0 turns that detector off, leaving the idle-time period.
   */
  periodStreak: number;
  /** Memory (MB) of the unit the fallback and the cost are sized for: the median app of the tuning data. */
  referenceMb: number;
  /**
   * How strongly memory counts: a unit's idle minute costs
   * (unitMb / referenceMb) ^ memoryExponent, and its fallback is divided by
   * that (0: memory does not matter).
   */
  memoryExponent: number;
  /** This unit's memory (MB); omitted, the unit counts as `referenceMb`. */
  unitMb?: number;
}

/** Bounds of the memory-scaled fallback keep-alive, in minutes. */
const FALLBACK_BOUNDS = { min: 10, max: 480 };

/** The defaults: the sweep's choice on the first half of the shared trace's hours (bench/prewarm.ts prints it). */
export const CLOUDLOOM_DEFAULTS: CloudloomPolicyOptions = {
  window: 30,
  minSamples: 11,
  fallbackKeepAlive: 110,
  rule: "cost",
  lower: 0.1,
  upper: 0.75,
  coldCost: 20,
  margin: 0,
  periodicKeepAlive: 4,
  periodStreak: 0,
  referenceMb: 60.5,
  memoryExponent: 0.5,
};

/** Idle times that must agree (within a minute) for the idle-time period. */
const PERIOD_SAMPLES = 3;

/** Minutes before a predicted call that a pre-warmed instance is loaded. */
const LEAD = 2;

/**
 * cloudloom's policy, in order:
 * - periodic units (timers, cron-like clients): when the last idle times
 *   agree within a minute (two are enough), or when every recent call
 *   repeats one a fixed period earlier and that prediction has come true
 *   `periodStreak` times in a row, unload and pre-warm `LEAD` minutes before
 *   the predicted call;
 * - with fewer than `minSamples` idle times, a fallback keep-alive scaled
 *   down for heavy units and up for light ones (a cost model after
 *   "FaasCache", Fuerst and Sharma, ASPLOS 2021, which keeps a unit by its
 *   cold-start cost over its size);
 * - otherwise the recent idle times decide: by percentiles (a trimmed
 *   version of the hybrid histogram of Shahrad et al., USENIX ATC 2020), or
 *   by the window of least expected cost, which prices an idle minute by the
 *   unit's memory and a cold start at `coldCost` (see cost-window.ts).
 */
export class CloudloomPolicy implements KeepAlivePolicy {
  readonly name = "cloudloom";
  private readonly options: CloudloomPolicyOptions;
  private readonly recent: RecentIdleTimes;
  private readonly arrivals = new ArrivalPeriod(HISTOGRAM_MINUTES);
  /** The arrival-period prediction made after the latest call, checked when the next call comes. */
  private predicted?: PeriodPrediction;
  /** Arrival-period predictions in a row that came true. */
  private streak = 0;
  /** The last history-based window and the version of the idle times it was computed from. */
  private cached?: { version: number; window: Window };

  constructor(options: Partial<CloudloomPolicyOptions> = {}) {
    this.options = { ...CLOUDLOOM_DEFAULTS, ...options };
    this.recent = new RecentIdleTimes(Math.max(PERIOD_SAMPLES, this.options.window));
  }

  observe(idleMinutes: number): void {
    this.recent.push(idleMinutes);
    if (this.options.periodStreak === 0) return;
    this.streak = this.predicted && ArrivalPeriod.matches(this.predicted, idleMinutes) ? this.streak + 1 : 0;
    this.arrivals.observe(idleMinutes);
  }

  /** What an idle minute of this unit costs, relative to one of the reference unit. */
  private minuteCost(): number {
    const { unitMb, referenceMb, memoryExponent } = this.options;
    return unitMb === undefined || unitMb <= 0 ? 1 : (unitMb / referenceMb) ** memoryExponent;
  }

  /** The fallback keep-alive, scaled by the unit's memory when it is known. */
  fallback(): number {
    const scaled = Math.round(this.options.fallbackKeepAlive / this.minuteCost());
    return Math.min(FALLBACK_BOUNDS.max, Math.max(FALLBACK_BOUNDS.min, scaled));
  }

  decide(): Window {
    const periodic = this.periodicWindow();
    if (periodic) return periodic;
    const { minSamples, rule } = this.options;
    if (this.recent.size < Math.max(1, minSamples)) {
      const keep = this.fallback();
      return { prewarm: 0, keepAlive: keep, reason: `${this.recent.size} idle time(s) and no period yet; keep ${keep} min` };
    }
    if (this.cached?.version !== this.recent.version)
      this.cached = { version: this.recent.version, window: rule === "cost" ? this.cheapestWindow() : this.percentileWindow() };
    return this.cached.window;
  }

  /** A pre-warm just before the next call of a period, when one is known. */
  private periodicWindow(): Window | undefined {
    const { periodStreak, periodicKeepAlive } = this.options;
    this.predicted = periodStreak > 0 ? this.arrivals.predict() : undefined;
    if (this.predicted && this.streak >= periodStreak) {
      const { period, nextIn } = this.predicted;
      const why = `periodic: calls repeat every ${period} min (${this.streak} predictions in a row came true); the next is due in ${nextIn} min`;
      // A call due within the lead time is waited for loaded; a later one gets an instance loaded LEAD minutes ahead.
      if (nextIn <= LEAD + 1) return { prewarm: 0, keepAlive: nextIn + periodicKeepAlive - LEAD, reason: `${why}, stay loaded` };
      return { prewarm: nextIn - LEAD, keepAlive: periodicKeepAlive, reason: `${why}, pre-warm ${LEAD} min ahead` };
    }
    const period = this.idlePeriod();
    if (period === undefined) return undefined;
    return {
      prewarm: period - LEAD,
      keepAlive: periodicKeepAlive,
      reason: `periodic: the last ${Math.min(PERIOD_SAMPLES, this.recent.size)} idle times are ${period} ± 1 min; pre-warm ${LEAD} min before the next call`,
    };
  }

  /** The window between two percentiles of the recent idle times, widened by the margin. */
  private percentileWindow(): Window {
    const { lower, upper, margin } = this.options;
    const low = this.recent.quantile(lower);
    const high = this.recent.quantile(upper);
    const prewarm = Math.floor(low * (1 - margin));
    const keepAlive = Math.min(HISTOGRAM_MINUTES, Math.max(2, Math.ceil(high * (1 + margin)) - prewarm));
    return {
      prewarm,
      keepAlive,
      reason: `idle times p${lower * 100} ${low} min, p${upper * 100} ${high} min over the last ${this.recent.size}: pre-warm after ${prewarm} min, keep ${keepAlive} min`,
    };
  }

  /** The window of least expected cost over the recent idle times, widened by the margin. */
  private cheapestWindow(): Window {
    const { coldCost, margin } = this.options;
    const minuteCost = this.minuteCost();
    const best = cheapestWindow(this.recent, minuteCost, coldCost);
    const why = `over the last ${this.recent.size} idle times, at ${minuteCost.toFixed(2)} per idle minute and ${coldCost} per cold start`;
    const start = Math.max(1, Math.floor(best.start * (1 - margin)));
    const end = Math.ceil(best.end * (1 + margin));
    return {
      prewarm: start === 1 ? 0 : start,
      keepAlive: start === 1 ? end : end - start,
      reason: `cheapest to be loaded from minute ${start} to ${end} after the call ${why}`,
    };
  }

  /** The period, when the last idle times (two or three) agree within a minute and it is longer than 3 minutes. */
  private idlePeriod(): number | undefined {
    const n = Math.min(PERIOD_SAMPLES, this.recent.size);
    if (n < 2) return undefined;
    const a = this.recent.latest(0);
    const b = this.recent.latest(1);
    const c = n === 3 ? this.recent.latest(2) : b;
    // The median of the last three (of two: the larger).
    const median = n === 2 ? Math.max(a, b) : a + b + c - Math.max(a, b, c) - Math.min(a, b, c);
    if (median <= LEAD + 1) return undefined;
    for (let k = 0; k < n; k++) if (Math.abs(this.recent.latest(k) - median) > 1) return undefined;
    return median;
  }
}

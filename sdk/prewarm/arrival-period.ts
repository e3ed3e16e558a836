/**
 * Periods in a unit's arrival times, including several timers of one period
 * superposed: an app whose two functions fire every 30 minutes, 2 minutes
 * apart, has idle times 28, 2, 28, 2, so no idle time repeats, but every
 * call has one 30 minutes before it. Timer triggers are the most common
 * trigger in the Azure Functions trace (Shahrad et al., "Serverless in the
 * Wild", USENIX ATC 2020, §3.2); IceBreaker (Roy et al., ASPLOS 2022)
 * predicts such units from their periodicity, which this finds in the time
 * domain instead of by a Fourier transform.
 */

/** Arrival times remembered: the period search looks this many calls back. */
const CAPACITY = 64;

/** Minutes a repeat may be off its period: one minute for periods of 10 minutes and more (minute boundaries), else none. */
const tolerance = (period: number) => (period >= 10 ? 1 : 0);

/** A predicted next call. */
export interface PeriodPrediction {
  period: number;
  /** Minutes from the latest call to the predicted one. */
  nextIn: number;
}

/** The arrival times of one unit, on a clock that starts at its first call. */
export class ArrivalPeriod {
  private readonly times = new Int32Array(CAPACITY);
  private count = 0;
  private next = 0;
  private clock = 0;

  /** @param longest the longest period looked for, in minutes */
  constructor(private readonly longest: number) {}

  /** Whether a call `idleMinutes` after the latest one came when `prediction` said. */
  static matches(prediction: PeriodPrediction, idleMinutes: number): boolean {
    return Math.abs(idleMinutes - prediction.nextIn) <= tolerance(prediction.period);
  }

  /** Records a call `idleMinutes` after the previous one (the first call, at minute 0, is implied). */
  observe(idleMinutes: number): void {
    if (this.count === 0) this.push(0);
    this.clock += idleMinutes;
    this.push(this.clock);
  }

  /**
   * The shortest period, of 2 to `longest` minutes, such that the latest two
   * calls each had a call one period earlier, and the next call it predicts:
   * the calls since the one a period before the latest each repeat one
   * period on, so the earliest of them comes next.
   */
  predict(): PeriodPrediction | undefined {
    if (this.count < 3) return undefined;
    const latest = this.arrival(0);
    for (let j = 1; j < this.count; j++) {
      const period = latest - this.arrival(j);
      if (period > this.longest) break;
      if (period < 2 || !this.hasArrivalNear(this.arrival(1) - period, tolerance(period), 2)) continue;
      return { period, nextIn: j > 1 ? this.arrival(j - 1) + period - latest : period };
    }
    return undefined;
  }

  private push(time: number): void {
    this.times[this.next] = time;
    this.next = (this.next + 1) % CAPACITY;
    this.count = Math.min(CAPACITY, this.count + 1);
  }

  /** The k-th latest arrival (0: the latest). */
  private arrival(k: number): number {
    return this.times[(this.next - 1 - k + CAPACITY) % CAPACITY];
  }

  /** Whether a remembered arrival of rank `from` or older lies within `slack` minutes of `time`. */
  private hasArrivalNear(time: number, slack: number, from: number): boolean {
    for (let k = from; k < this.count; k++) {
      const arrival = this.arrival(k);
      if (arrival < time - slack) return false;
      if (arrival <= time + slack) return true;
    }
    return false;
  }
}

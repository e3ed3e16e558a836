/**
 * The last N idle times of a unit, kept both in arrival order and sorted, so
 * a policy reads percentiles and the latest values after every call without
 * sorting or allocating (a replay asks hundreds of thousands of times).
 */
export class RecentIdleTimes {
  /** Arrival order, as a ring. */
  private readonly ring: Int32Array;
  private readonly sorted: Int32Array;
  private next = 0;
  private count = 0;
  /** Counts changes of the held multiset (an idle time replacing an equal one changes nothing). */
  private changes = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a whole number of 1 or more, not ${capacity}`);
    this.ring = new Int32Array(capacity);
    this.sorted = new Int32Array(capacity);
  }

  /** Idle times held (at most `capacity`). */
  get size(): number {
    return this.count;
  }

  /** A number that changes whenever the held idle times (as a multiset) do: results computed from them can be kept until it does. */
  get version(): number {
    return this.changes;
  }

  /** Adds an idle time, forgetting the oldest when full. */
  push(idle: number): void {
    if (this.count < this.capacity || this.ring[this.next] !== idle) this.changes++;
    if (this.count === this.capacity) {
      this.remove(this.ring[this.next]);
      this.count--;
    }
    this.ring[this.next] = idle;
    this.next = (this.next + 1) % this.capacity;
    this.insert(idle);
    this.count++;
  }

  /** The idle time of sorted rank `rank` (0: the shortest). */
  ranked(rank: number): number {
    return this.sorted[rank];
  }

  /** The q-quantile (0–1) of the held idle times, the lower of two neighbours. */
  quantile(q: number): number {
    return this.sorted[Math.min(this.count - 1, Math.floor(q * (this.count - 1)))];
  }

  /** The k-th latest idle time (0: the latest). */
  latest(k: number): number {
    return this.ring[(this.next - 1 - k + 2 * this.capacity) % this.capacity];
  }

  /** Inserts into the sorted entries (`count` of them before the call). */
  private insert(idle: number): void {
    let i = this.count - 1;
    while (i >= 0 && this.sorted[i] > idle) {
      this.sorted[i + 1] = this.sorted[i];
      i--;
    }
    this.sorted[i + 1] = idle;
  }

  /** Removes one occurrence from the sorted entries. */
  private remove(idle: number): void {
    let i = 0;
    while (this.sorted[i] !== idle) i++;
    this.sorted.copyWithin(i, i + 1, this.count);
  }
}

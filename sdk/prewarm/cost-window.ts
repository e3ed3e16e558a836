/**
 * The window that minimizes expected cost over a unit's recent idle times:
 * memory held idle, priced per minute, against cold starts, priced each.
 * Keep-alive as a cost trade-off follows "FaasCache" (Fuerst and Sharma,
 * ASPLOS 2021), which keeps a unit by its cold-start cost over its size.
 */
import type { RecentIdleTimes } from "./recent-idle";

/** The loaded minutes after a call, `[start, end]` (1: the next minute). */
export interface LoadedMinutes {
  start: number;
  end: number;
  /** Expected cost per call, in warm-minute units. */
  cost: number;
}

/**
 * For a next idle time T drawn from the recent ones: a window [start, end]
 * is warm when start ≤ T ≤ end and then holds T − start idle minutes; T past
 * the end is cold after end − start + 1 idle minutes; T before the start is
 * cold and wastes nothing. Expected cost = minuteCost × E[idle minutes] +
 * coldCost × P(cold). The best window starts and ends at observed idle
 * times (or starts at the next minute). Loading nothing is never cheaper:
 * a window of just the longest idle time holds no idle minute and saves a
 * cold start.
 */
export function cheapestWindow(recent: RecentIdleTimes, minuteCost: number, coldCost: number): LoadedMinutes {
  const n = recent.size;
  if (n === 0) throw new RangeError("the cheapest window needs at least one idle time");
  const groups = distinctValues(recent);
  const best: LoadedMinutes = { start: 1, end: 1, cost: Infinity };
  /** Tries every end for windows loaded from `start` whose first warm idle time is distinct value `first`. */
  const ends = (first: number, start: number, early: number) => {
    let warm = 0;
    let warmIdle = 0;
    for (let last = first; last < groups.length; last++) {
      const end = groups.values[last];
      warm += groups.counts[last];
      warmIdle += groups.counts[last] * (end - start);
      const late = n - early - warm;
      const cost = (minuteCost * (warmIdle + late * (end - start + 1)) + coldCost * (early + late)) / n;
      if (cost < best.cost) {
        best.start = start;
        best.end = end;
        best.cost = cost;
      }
    }
  };
  if (groups.length > 0 && groups.values[0] > 1) ends(0, 1, 0);
  let early = 0;
  for (let first = 0; first < groups.length; first++) {
    ends(first, groups.values[first], early);
    early += groups.counts[first];
  }
  return best;
}

/** Distinct idle times and how often each occurs, ascending, in reused arrays (one replay asks hundreds of thousands of times). */
const scratch = { values: new Int32Array(64), counts: new Int32Array(64), length: 0 };

function distinctValues(recent: RecentIdleTimes): typeof scratch {
  if (scratch.values.length < recent.size) {
    scratch.values = new Int32Array(recent.size);
    scratch.counts = new Int32Array(recent.size);
  }
  scratch.length = 0;
  for (let rank = 0; rank < recent.size; rank++) {
    const value = recent.ranked(rank);
    if (scratch.length > 0 && scratch.values[scratch.length - 1] === value) scratch.counts[scratch.length - 1]++;
    else {
      scratch.values[scratch.length] = value;
      scratch.counts[scratch.length++] = 1;
    }
  }
  return scratch;
}

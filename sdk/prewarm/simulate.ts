/**
 * Replays one unit's per-minute invocations through a policy at 1-minute
 * resolution, counting cold starts and minutes an instance sat loaded but idle.
 */
import type { KeepAlivePolicy } from "./policies";

/** What a replay measured. */
export interface ReplayResult {
  invocations: number;
  coldStarts: number;
  /** Minutes loaded without an invocation. */
  wastedMinutes: number;
}

/**
 * A unit's invocations as the minutes that have any, computed once per unit
 * so that a replay (and a sweep of thousands of replays) steps from call to
 * call instead of minute by minute.
 */
export interface Arrivals {
  /** Minutes with at least one invocation, ascending. */
  readonly minutes: Int32Array;
  /** Invocations in each of those minutes. */
  readonly counts: Int32Array;
  /** Minutes the trace covers. */
  readonly length: number;
}

/** The arrivals of a per-minute count series. */
export function toArrivals(counts: readonly number[]): Arrivals {
  let active = 0;
  for (const count of counts) if (count > 0) active++;
  const minutes = new Int32Array(active);
  const calls = new Int32Array(active);
  let next = 0;
  counts.forEach((count, minute) => {
    if (count <= 0) return;
    minutes[next] = minute;
    calls[next++] = count;
  });
  return { minutes, counts: calls, length: counts.length };
}

/**
 * Minutes `[from, to)` that a replay scores. The policy sees every minute
 * before `to` (it learns online from all of them) and nothing after.
 */
export interface ScoredMinutes {
  from: number;
  to: number;
}

/** Minutes of `[a, b]` that fall in `[from, to)`. */
function overlap(a: number, b: number, scored: ScoredMinutes): number {
  return Math.max(0, Math.min(b, scored.to - 1) - Math.max(a, scored.from) + 1);
}

/**
 * Replays a unit's arrivals. An invocation minute is cold when no instance is
 * loaded then; its other invocations share the instance. After each
 * invocation the policy's window decides when the instance is loaded next:
 * from the next minute (no pre-warm) or from `prewarm` minutes later, until
 * `prewarm + keepAlive` minutes after the call. Only `scored` minutes count.
 */
export function replay(
  arrivals: Arrivals,
  policy: KeepAlivePolicy,
  scored: ScoredMinutes = { from: 0, to: arrivals.length },
): ReplayResult {
  const { minutes, counts } = arrivals;
  let invocations = 0;
  let coldStarts = 0;
  let wastedMinutes = 0;
  let loadedFrom = Infinity;
  let loadedUntil = -Infinity;
  let previous = -1;
  for (let i = 0; i < minutes.length && minutes[i] < scored.to; i++) {
    const minute = minutes[i];
    if (previous >= 0) {
      // Idle minutes since the previous call that its window kept loaded.
      wastedMinutes += overlap(Math.max(loadedFrom, previous + 1), Math.min(loadedUntil, minute - 1), scored);
      policy.observe(minute - previous);
    }
    if (minute >= scored.from) {
      invocations += counts[i];
      if (minute < loadedFrom || minute > loadedUntil) coldStarts++;
    }
    const window = policy.decide();
    loadedFrom = minute + (window.prewarm === 0 ? 1 : window.prewarm);
    loadedUntil = minute + window.prewarm + window.keepAlive;
    previous = minute;
  }
  // The last call's window runs on to the end of the scored minutes.
  if (previous >= 0) wastedMinutes += overlap(Math.max(loadedFrom, previous + 1), loadedUntil, scored);
  return { invocations, coldStarts, wastedMinutes };
}

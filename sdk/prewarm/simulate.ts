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
 * Replays `counts`. An invocation minute is cold when no instance is loaded
 * then; its other invocations share the instance. After each invocation the
 * policy's window decides when the instance is loaded next.
 */
export function replay(counts: readonly number[], policy: KeepAlivePolicy): ReplayResult {
  let invocations = 0;
  let coldStarts = 0;
  let wastedMinutes = 0;
  let last: number | undefined;
  let loadedFrom = Infinity;
  let loadedUntil = -Infinity;
  for (let minute = 0; minute < counts.length; minute++) {
    const loaded = minute >= loadedFrom && minute <= loadedUntil;
    if (counts[minute] === 0) {
      if (loaded) wastedMinutes++;
      continue;
    }
    invocations += counts[minute];
    if (!loaded) coldStarts++;
    if (last !== undefined) policy.observe(minute - last);
    last = minute;
    const window = policy.decide();
    loadedFrom = minute + (window.prewarm === 0 ? 1 : window.prewarm);
    loadedUntil = minute + window.prewarm + window.keepAlive;
  }
  return { invocations, coldStarts, wastedMinutes };
}

/**
 * Plan-time floors: the hours of day when a unit is busy in its history
 * become scheduled floors that start `leadMinutes` early, so the clouds'
 * schedulers (Lambda scheduled actions, FC scheduled actions, KEDA cron)
 * have instances warm before the calls arrive. Every floor says why.
 */
import type { History } from "./history";

/** A derived floor, in the spec's schedule shape plus its reason. */
export interface DerivedFloor {
  cron: string;
  timezone: string;
  minInstances: number;
  duration: string;
  reason: string;
}

/** An hour counts as busy when at least this share of its minutes, over the history, saw a call. */
const BUSY_SHARE = 0.5;

/** Minutes a single instance can serve, for sizing floors from calls per minute. */
const CALLS_PER_INSTANCE_MINUTE = 60;

const pad = (n: number) => String(n).padStart(2, "0");

/** Floors for the busy windows of `history`, each starting `leadMinutes` before its window. */
export function deriveFloors(history: History, options: { leadMinutes: number; maxInstances: number }): DerivedFloor[] {
  const active = new Array<number>(24).fill(0);
  const seen = new Array<number>(24).fill(0);
  const peak = new Array<number>(24).fill(0);
  history.counts.forEach((count, i) => {
    const hour = Math.floor(((history.startMinuteOfDay + i) % 1440) / 60);
    seen[hour]++;
    if (count > 0) active[hour]++;
    peak[hour] = Math.max(peak[hour], count);
  });
  const busy = active.map((count, hour) => seen[hour] > 0 && count / seen[hour] >= BUSY_SHARE);
  const floors: DerivedFloor[] = [];
  for (let hour = 0; hour < 24; hour++) {
    if (!busy[hour] || (hour > 0 && busy[hour - 1])) continue;
    let end = hour;
    while (end + 1 < 24 && busy[end + 1]) end++;
    const hours = end - hour + 1;
    // A floor cannot cross midnight (schedulers hold it within one day), so a lead before 00:00 starts at 00:00.
    const begin = Math.max(0, hour * 60 - options.leadMinutes);
    // Schedulers end a floor within its day, so a window up to midnight ends at 23:59.
    const duration = Math.min(1439, hour * 60 + hours * 60) - begin;
    const topCalls = Math.max(...peak.slice(hour, end + 1));
    const minInstances = Math.min(options.maxInstances, Math.max(1, Math.ceil(topCalls / CALLS_PER_INSTANCE_MINUTE)));
    const share = Math.round(
      (100 * active.slice(hour, end + 1).reduce((a, b) => a + b, 0)) / seen.slice(hour, end + 1).reduce((a, b) => a + b, 0),
    );
    floors.push({
      cron: `${begin % 60} ${Math.floor(begin / 60)} * * *`,
      timezone: "UTC",
      minInstances,
      duration: `${duration} minutes`,
      reason: `calls in ${share} % of the minutes between ${pad(hour)}:00 and ${pad(end + 1)}:00 UTC (peak ${topCalls}/min); warm from ${pad(Math.floor(begin / 60))}:${pad(begin % 60)}, ${options.leadMinutes} min ahead`,
    });
  }
  return floors;
}

/**
 * The out-of-sample protocol of the pre-warm benchmark: which apps and which
 * minutes a sweep may tune on, and which ones a report is scored on.
 *
 * - Time split: tune on the first half of the trace's minutes; report on the
 *   second half. Policies replay the first half too (their online state, as
 *   in production), but nothing of the second half reaches the sweep.
 * - Function split: a fixed hash of the app id puts each app on side A or B;
 *   tune on one side's apps, report on the other's, in both directions.
 */
import { createHash } from "node:crypto";
import type { ScoredMinutes } from "../../sdk/prewarm/simulate";

/** A side of the function split. */
export type Side = "A" | "B";

/**
 * The side of an app: the lowest bit of the first byte of SHA-256 of its id.
 * It depends on the id alone (not on row order, the trace or a seed), so
 * every run and every reader puts an app on the same side.
 */
export function sideOf(app: string): Side {
  return (createHash("sha256").update(app).digest()[0] & 1) === 0 ? "A" : "B";
}

/** Some apps (by index into the prepared trace) and the minutes scored on them. */
export interface Slice {
  /** Names the data in reports, e.g. "minutes 240–479, all apps". */
  label: string;
  apps: readonly number[];
  scored: ScoredMinutes;
}

/** A way to split the trace: the slice a sweep tunes on and the slice reported. */
export interface Split {
  name: string;
  tuning: Slice;
  test: Slice;
}

/** The time split and both directions of the function split, over `appIds` and `minutes` of trace. */
export function splits(appIds: readonly string[], minutes: number): Split[] {
  const all = appIds.map((_, index) => index);
  const half = Math.floor(minutes / 2);
  const sides = appIds.map(sideOf);
  const side = (wanted: Side) => all.filter((index) => sides[index] === wanted);
  const whole = { from: 0, to: minutes };
  const apps = (wanted: Side) => `side ${wanted} (${side(wanted).length} apps), all ${minutes} minutes`;
  return [
    {
      name: "time split",
      tuning: { label: `minutes 0–${half - 1}, all ${all.length} apps`, apps: all, scored: { from: 0, to: half } },
      test: { label: `minutes ${half}–${minutes - 1}, all ${all.length} apps`, apps: all, scored: { from: half, to: minutes } },
    },
    {
      name: "function split A→B",
      tuning: { label: apps("A"), apps: side("A"), scored: whole },
      test: { label: apps("B"), apps: side("B"), scored: whole },
    },
    {
      name: "function split B→A",
      tuning: { label: apps("B"), apps: side("B"), scored: whole },
      test: { label: apps("A"), apps: side("A"), scored: whole },
    },
  ];
}

/**
 * Objectives: what a route, function or model promises, each a threshold on
 * one measure over a window, with a severity. This module says which measures
 * suit which entries and reads an objective's threshold in base units;
 * providers turn objectives into alert rules (providers/shared/alerts.ts).
 */
import type { ObjectiveSpec, SpecV1 } from "./schema";
import { toFraction, toSeconds, type Duration, type Percent } from "./units";

/** The kinds of entry that declare objectives. */
export type ObjectiveOwner = "route" | "function" | "model";

/** How a measure's threshold is written: a percent, a duration or a count. */
export type MeasureUnit = "percent" | "duration" | "count";

/** Every measure an objective can state: the entries it suits, its unit, and what it means. */
export const MEASURES = {
  errorRate: { owners: ["route", "function", "model"], unit: "percent", meaning: "error rate (share of requests answered with a 5xx)" },
  p99: { owners: ["route", "function", "model"], unit: "duration", meaning: "99th-percentile latency" },
  coldStartShare: {
    owners: ["function", "model"],
    unit: "percent",
    meaning: "cold-start share (calls that waited for an instance to start)",
  },
  queueDepth: { owners: ["model"], unit: "count", meaning: "average batch queue depth" },
  queueAge: { owners: ["model"], unit: "duration", meaning: "99th-percentile wait in the batch queue" },
} as const satisfies Record<string, { owners: readonly ObjectiveOwner[]; unit: MeasureUnit; meaning: string }>;

/** A measure an objective states. */
export type Measure = keyof typeof MEASURES;

/** How urgent a breached objective is: `page` wakes someone, `ticket` waits for working hours. */
export type Severity = ObjectiveSpec["severity"];

/** The measures an objective states, in catalog order; a valid objective states exactly one. */
export function measuresOf(objective: ObjectiveSpec): Measure[] {
  return (Object.keys(MEASURES) as Measure[]).filter((measure) => objective[measure] !== undefined);
}

/** `measure`'s threshold in base units: a fraction (`"1%"` is 0.01), seconds, or a count. */
export function thresholdOf(objective: ObjectiveSpec, measure: Measure): number {
  const value = objective[measure]!;
  switch (MEASURES[measure].unit) {
    case "percent":
      return toFraction(value as Percent);
    case "duration":
      return toSeconds(value as Duration);
    default:
      return value as number;
  }
}

/** An entry that declares objectives, and where in the spec they are. */
export interface ObjectiveHolder {
  owner: ObjectiveOwner;
  /** Route key, function name or model key. */
  key: string;
  /** Dotted spec path of the entry, e.g. `routes.POST /v1/classify`. */
  path: string;
  objectives: ObjectiveSpec[];
}

/** Every route, function and model of `spec` that declares objectives, in that order. */
export function objectiveHolders(spec: SpecV1): ObjectiveHolder[] {
  const sections = [
    ["route", "routes", spec.routes],
    ["function", "functions", spec.functions],
    ["model", "models", spec.models],
  ] as const;
  return sections.flatMap(([owner, section, entries]) =>
    Object.entries(entries as Record<string, { objectives?: ObjectiveSpec[] }>).flatMap(([key, entry]) =>
      entry.objectives?.length ? [{ owner, key, path: `${section}.${key}`, objectives: entry.objectives }] : [],
    ),
  );
}

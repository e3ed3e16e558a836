/**
 * Objectives must be alertable: one measure each, one that suits the entry,
 * a threshold that can be crossed, a window every target can evaluate, and
 * no two alike (their alerts would share a name).
 */
import { MEASURES, measuresOf, objectiveHolders, thresholdOf, type Measure, type ObjectiveHolder } from "../objectives";
import type { ObjectiveSpec, SpecV1 } from "../schema";
import { toSeconds } from "../units";
import type { Report, Rule } from "./report";

/** Windows are whole minutes, from one minute to a day: what CloudWatch, CloudMonitor and Prometheus all evaluate. */
const WINDOW_SECONDS = { min: 60, max: 86_400 };

const list = (measures: readonly string[]) => measures.join(", ");

/** Why `threshold` can never be crossed (or always is), or undefined when it can be. */
function thresholdProblem(spec: SpecV1, holder: ObjectiveHolder, measure: Measure, threshold: number): string | undefined {
  const unit = MEASURES[measure].unit;
  if (unit === "percent" && !(threshold > 0 && threshold < 1)) return "a share must be above 0% and below 100%";
  if (unit === "duration" && !(threshold > 0)) return "a duration must be above zero";
  if (unit === "count" && !(Number.isInteger(threshold) && threshold >= 1)) return "a queue depth must be a whole number of at least 1";
  if (measure === "queueDepth") {
    const maxQueue = spec.models[holder.key].batching.maxQueue;
    if (threshold >= maxQueue) return `the queue holds at most ${maxQueue} (batching.maxQueue), so its depth never exceeds ${threshold}`;
  }
  if (measure === "p99" && holder.owner === "function") {
    const timeout = toSeconds(spec.functions[holder.key].timeout);
    if (threshold >= timeout) return `the function times out after ${timeout} s, so no call takes longer than ${threshold} s`;
  }
  return undefined;
}

function checkObjective(
  spec: SpecV1,
  holder: ObjectiveHolder,
  objective: ObjectiveSpec,
  path: string,
  report: Report,
): Measure | undefined {
  const window = toSeconds(objective.window);
  if (!Number.isInteger(window / 60) || window < WINDOW_SECONDS.min || window > WINDOW_SECONDS.max) {
    report(
      "CL_OBJECTIVE_WINDOW",
      `${path}.window`,
      `window "${objective.window}" is not a whole number of minutes between 1 minute and 1 day`,
      'use whole minutes from "1 minute" to "1 day", e.g. "5 minutes"',
    );
  }
  const measures = measuresOf(objective);
  const suited = MEASURES_BY_OWNER[holder.owner];
  if (measures.length !== 1) {
    report(
      "CL_OBJECTIVE_MEASURE",
      path,
      measures.length === 0 ? `${path} states no measure` : `${path} states ${list(measures)}; an objective states one measure`,
      measures.length === 0 ? `state one of: ${list(suited)}` : "split it into one objective per measure",
    );
    return undefined;
  }
  const [measure] = measures;
  if (!suited.includes(measure)) {
    report(
      "CL_OBJECTIVE_SCOPE",
      `${path}.${measure}`,
      `a ${holder.owner} has no ${MEASURES[measure].meaning}`,
      `a ${holder.owner}'s objectives state one of: ${list(suited)}`,
    );
    return undefined;
  }
  const problem = thresholdProblem(spec, holder, measure, thresholdOf(objective, measure));
  if (problem) {
    report(
      "CL_OBJECTIVE_THRESHOLD",
      `${path}.${measure}`,
      `${measure} ${String(objective[measure])} can never alert: ${problem}`,
      "choose a threshold traffic can cross",
    );
  }
  return measure;
}

/** The measures each kind of entry may state. */
const MEASURES_BY_OWNER = Object.fromEntries(
  (["route", "function", "model"] as const).map((owner) => [
    owner,
    (Object.keys(MEASURES) as Measure[]).filter((measure) => (MEASURES[measure].owners as readonly string[]).includes(owner)),
  ]),
) as Record<ObjectiveHolder["owner"], Measure[]>;

/** Checks every objective of every route, function and model. */
export const objectiveRule: Rule = (spec, _context, report) => {
  for (const holder of objectiveHolders(spec)) {
    const seen = new Map<string, number>();
    holder.objectives.forEach((objective, index) => {
      const path = `${holder.path}.objectives.${index}`;
      const measure = checkObjective(spec, holder, objective, path, report);
      if (!measure) return;
      const alike = `${measure}|${objective.severity}`;
      const first = seen.get(alike);
      if (first === undefined) seen.set(alike, index);
      else
        report(
          "CL_OBJECTIVE_DUPLICATE",
          path,
          `${path} repeats objective ${first}: both are ${measure} at severity ${objective.severity}`,
          `keep one, or give it the other severity (${objective.severity === "page" ? "ticket" : "page"})`,
        );
    });
  }
};

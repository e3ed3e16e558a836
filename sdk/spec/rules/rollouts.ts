/**
 * Rollouts: a rollout moves one of a route's two model versions from 0 to
 * 100 % in rising steps, and its gate has at least one threshold a step is
 * judged on.
 */
import { toFraction, toMilliseconds } from "../units";
import type { RolloutSpec, RouteSpec } from "../schema";
import { entries, type Report, type Rule } from "./report";

/** Checks each rollout's route, starting weights, steps, interval and gate. */
export const rolloutRule: Rule = (spec, _context, report) => {
  for (const [key, route] of entries(spec.routes)) {
    if (!route.rollout) continue;
    const base = `routes.${key}.rollout`;
    checkTarget(route, base, report);
    checkSteps(route.rollout, base, report);
    checkGate(route.rollout.gate, `${base}.gate`, report);
  }
};

function checkTarget(route: RouteSpec, base: string, report: Report): void {
  const { target, rollout } = route as RouteSpec & { rollout: RolloutSpec };
  const versions = target.kind === "model" ? Object.keys(target.weights) : [];
  if (versions.length !== 2 || !versions.includes(rollout.version)) {
    report(
      "CL_ROLLOUT_TARGET",
      target.kind === "function" ? base : `${base}.version`,
      target.kind === "function"
        ? "a rollout moves traffic between model versions, and this route calls a function"
        : `the route splits ${versions.length === 0 ? "no versions" : `version(s) ${versions.join(", ")}`}, so it cannot roll out version "${rollout.version}"`,
      "declare the rollout on a route whose target splits the current version and the new one, and name the new one as the rollout's version",
    );
    return;
  }
  const weights = (target as { weights: Record<string, number> }).weights;
  const other = versions.find((v) => v !== rollout.version)!;
  if (weights[rollout.version] !== 0 || weights[other] !== 100)
    report(
      "CL_ROLLOUT_WEIGHTS",
      `${base.slice(0, -".rollout".length)}.target.weights`,
      `the rollout starts from the declared weights, which give version "${rollout.version}" ${weights[rollout.version]} % and "${other}" ${weights[other]} %`,
      `declare "${other}" at weight 100 and "${rollout.version}" at 0: the gateway moves the weights through the rollout's steps`,
    );
}

function checkSteps(rollout: RolloutSpec, base: string, report: Report): void {
  const { steps } = rollout;
  const rising = steps.every((step, i) => Number.isFinite(step) && step > 0 && step <= 100 && (i === 0 || step > steps[i - 1]));
  if (steps.length === 0 || !rising || steps[steps.length - 1] !== 100)
    report(
      "CL_ROLLOUT_STEPS",
      `${base}.steps`,
      `steps are ${JSON.stringify(steps)}`,
      "list the version's percent at each step, rising and ending at 100, e.g. [5, 25, 50, 100]",
    );
  if (!(toMilliseconds(rollout.interval) > 0))
    report("CL_ROLLOUT_STEPS", `${base}.interval`, `interval is ${rollout.interval}`, 'give each step a time above zero, e.g. "5 minutes"');
}

function checkGate(gate: RolloutSpec["gate"], base: string, report: Report): void {
  const thresholds = [gate.maxErrorRate, gate.maxP99, gate.maxErrorRateIncrease, gate.maxP99Ratio];
  if (thresholds.every((t) => t === undefined))
    report(
      "CL_ROLLOUT_GATE",
      base,
      "the gate has no threshold, so no step could ever fail",
      "set at least one of maxErrorRate, maxP99, maxErrorRateIncrease or maxP99Ratio",
    );
  for (const field of ["maxErrorRate", "maxErrorRateIncrease"] as const) {
    const value = gate[field];
    if (value !== undefined && toFraction(value) > 1)
      report("CL_ROLLOUT_GATE", `${base}.${field}`, `${field} is ${value}`, "give a share between 0% and 100%");
  }
  if (gate.maxP99 !== undefined && !(toMilliseconds(gate.maxP99) > 0))
    report("CL_ROLLOUT_GATE", `${base}.maxP99`, `maxP99 is ${gate.maxP99}`, 'give a latency above zero, e.g. "500 ms"');
  if (gate.maxP99Ratio !== undefined && !(Number.isFinite(gate.maxP99Ratio) && gate.maxP99Ratio >= 1))
    report(
      "CL_ROLLOUT_GATE",
      `${base}.maxP99Ratio`,
      `maxP99Ratio is ${gate.maxP99Ratio}`,
      "give a ratio of at least 1, e.g. 1.5 (the version's p99 at most 1.5 × the baseline's)",
    );
  if (!(Number.isInteger(gate.minRequests) && gate.minRequests >= 1))
    report(
      "CL_ROLLOUT_GATE",
      `${base}.minRequests`,
      `minRequests is ${gate.minRequests}`,
      "give a whole number of requests of at least 1, e.g. 100, so a step is judged on enough traffic",
    );
}

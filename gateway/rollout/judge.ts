/**
 * Judging a step (Flagger's canary analysis, on the gateway's own counts):
 * once the rolled-out version has served the gate's minRequests in the step,
 * a breach of any threshold rolls it back to 0 % at once; a step that meets
 * its gate for its whole interval advances to the next, and the last step
 * (100 %) completes the rollout. Baseline thresholds compare it with the
 * other version's requests in the same step, when those are enough to judge.
 */
import { summarize, type Observations, type VersionSummary } from "./observations";
import type { GateThresholds, RolloutPlan } from "./plan";
import type { RolloutState } from "./state";

/** Each version's summary in the step judged. */
export type Evidence = Record<string, VersionSummary>;

/** What to do with a progressing step. */
export type Decision =
  | { kind: "wait"; reason: string; evidence: Evidence }
  | { kind: "advanced" | "succeeded" | "rolled-back"; step: number; weight: number; reason: string; evidence: Evidence };

const percent = (fraction: number) => `${(fraction * 100).toFixed(2)}%`;
const ms = (value: number | undefined) => (value === undefined ? "-" : `${value} ms`);

/** The thresholds `canary` breaks, each as a sentence with its numbers. */
function breaches(gate: GateThresholds, canary: VersionSummary, baseline: VersionSummary): string[] {
  const found: string[] = [];
  if (gate.maxErrorRate !== undefined && canary.errorRate > gate.maxErrorRate)
    found.push(`error rate ${percent(canary.errorRate)} is over maxErrorRate ${percent(gate.maxErrorRate)}`);
  if (gate.maxP99Ms !== undefined && (canary.p99Ms ?? 0) > gate.maxP99Ms)
    found.push(`p99 ${ms(canary.p99Ms)} is over maxP99 ${ms(gate.maxP99Ms)}`);
  // The baseline is compared with only when it served enough requests in the step to say anything.
  if (baseline.requests < gate.minRequests) return found;
  if (gate.maxErrorRateIncrease !== undefined && canary.errorRate - baseline.errorRate > gate.maxErrorRateIncrease)
    found.push(
      `error rate ${percent(canary.errorRate)} exceeds the baseline's ${percent(baseline.errorRate)} by more than maxErrorRateIncrease ${percent(gate.maxErrorRateIncrease)}`,
    );
  if (gate.maxP99Ratio !== undefined && (canary.p99Ms ?? 0) > gate.maxP99Ratio * (baseline.p99Ms ?? 0))
    found.push(`p99 ${ms(canary.p99Ms)} is over maxP99Ratio ${gate.maxP99Ratio} × the baseline's ${ms(baseline.p99Ms)}`);
  return found;
}

/** Both versions' summaries of a step's observations. */
export function evidenceOf(plan: Pick<RolloutPlan, "from" | "to">, observations: Observations): Evidence {
  return { [plan.to]: summarize(observations[plan.to]), [plan.from]: summarize(observations[plan.from]) };
}

/** The decision on a progressing rollout at `now`, given its step's observations so far. */
export function decide(plan: RolloutPlan, state: RolloutState, observations: Observations, now: number): Decision {
  const evidence = evidenceOf(plan, observations);
  const canary = evidence[plan.to];
  const baseline = evidence[plan.from];
  const { minRequests } = plan.gate;
  if (canary.requests < minRequests)
    return {
      kind: "wait",
      reason: `version ${plan.to} has served ${canary.requests} of the ${minRequests} requests a step needs before it is judged`,
      evidence,
    };
  const found = breaches(plan.gate, canary, baseline);
  if (found.length > 0)
    return { kind: "rolled-back", step: state.step, weight: 0, reason: `version ${plan.to}: ${found.join("; ")}`, evidence };
  const leftMs = state.since + plan.intervalMs - now;
  if (leftMs > 0) return { kind: "wait", reason: `the step meets its gate so far; it lasts ${Math.ceil(leftMs / 1000)} s more`, evidence };
  const met = `step ${state.step} (${state.weight}%) met its gate over ${canary.requests} requests: error rate ${percent(canary.errorRate)}, p99 ${ms(canary.p99Ms)}`;
  const next = plan.steps.findIndex((weight) => weight > state.weight);
  if (next === -1 || plan.steps[next] >= 100)
    return { kind: "succeeded", step: next === -1 ? plan.steps.length : next + 1, weight: 100, reason: met, evidence };
  return { kind: "advanced", step: next + 1, weight: plan.steps[next], reason: met, evidence };
}

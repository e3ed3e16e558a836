/**
 * A route's rollout as the gateway runs it: the spec's declaration with its
 * units converted once, and the identity its shared state is kept under.
 */
import { toFraction, toMilliseconds, type RolloutSpec, type RouteSpec } from "../../sdk/spec";

/** The gate's thresholds in numbers: fractions, milliseconds, a ratio. */
export interface GateThresholds {
  maxErrorRate?: number;
  maxP99Ms?: number;
  maxErrorRateIncrease?: number;
  maxP99Ratio?: number;
  minRequests: number;
}

/** One route's rollout, ready to run. */
export interface RolloutPlan {
  /**
   * The rollout's identity: route, and the versions it moves from and to. A
   * new version (or a new route) is a new rollout; changing steps or the gate
   * keeps the state.
   */
  id: string;
  route: string;
  model: string;
  /** The version the traffic moves away from (the baseline). */
  from: string;
  /** The version rolled out. */
  to: string;
  /** Percent of `to` at each step (step 1 is `steps[0]`), ending at 100. */
  steps: number[];
  intervalMs: number;
  gate: GateThresholds;
  /** The declaration, for status and logs in the units the user wrote. */
  declared: RolloutSpec;
}

/** The plan of a route's rollout; undefined for a route without one. */
export function rolloutPlan(route: string, spec: RouteSpec): RolloutPlan | undefined {
  const { rollout, target } = spec;
  if (!rollout || target.kind !== "model") return undefined;
  const from = Object.keys(target.weights).find((version) => version !== rollout.version)!;
  const { gate } = rollout;
  return {
    id: `${route}|${from}->${rollout.version}`,
    route,
    model: target.name,
    from,
    to: rollout.version,
    steps: rollout.steps,
    intervalMs: toMilliseconds(rollout.interval),
    gate: {
      maxErrorRate: gate.maxErrorRate === undefined ? undefined : toFraction(gate.maxErrorRate),
      maxP99Ms: gate.maxP99 === undefined ? undefined : toMilliseconds(gate.maxP99),
      maxErrorRateIncrease: gate.maxErrorRateIncrease === undefined ? undefined : toFraction(gate.maxErrorRateIncrease),
      maxP99Ratio: gate.maxP99Ratio,
      minRequests: gate.minRequests,
    },
    declared: rollout,
  };
}

/** Both versions' percent when the rolled-out one has `weight`. */
export function weightsAt(plan: Pick<RolloutPlan, "from" | "to">, weight: number): Record<string, number> {
  return { [plan.from]: 100 - weight, [plan.to]: weight };
}

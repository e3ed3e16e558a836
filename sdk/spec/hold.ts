/**
 * Requests held while an entry starts (a scaling policy's `hold`): what
 * applies when a policy states none, and the bounds validation enforces.
 * The gateway, the runtime's model clients and the Kubernetes autoscaler all
 * read a policy's hold through `holdOf`, so they agree on the defaults.
 */
import type { HoldSpec, ModelSpec, ScalingPolicySpec, SpecV1 } from "./schema";
import { toMilliseconds } from "./units";

/** The hold of a scale-to-zero policy that states none: 100 requests, 30 seconds each. */
export const DEFAULT_HOLD: HoldSpec = { maxPending: 100, maxWait: "30 seconds" };

/** The most requests one entry may hold: each costs a timer and a socket while it waits. */
export const MAX_HOLD_PENDING = 10_000;

/** The longest a request may be held: clients and load balancers in front rarely wait longer. */
export const MAX_HOLD_WAIT_MS = 5 * 60_000;

/** A hold in numbers. */
export interface HoldLimits {
  maxPending: number;
  maxWaitMs: number;
}

/** The policy's hold: the stated one, else DEFAULT_HOLD when it scales to zero, else none. */
export function holdOf(policy: Pick<ScalingPolicySpec, "hold" | "scaleToZero"> | undefined): HoldSpec | undefined {
  return policy?.hold ?? (policy?.scaleToZero ? DEFAULT_HOLD : undefined);
}

/** The hold of a function (`kind` "function", by name) or model version (by `name@version`), in numbers; undefined when none applies. */
export function holdLimits(spec: SpecV1, kind: "function" | "model", entry: string): HoldLimits | undefined {
  const scaling = kind === "function" ? spec.functions[entry]?.scaling : spec.models[entry]?.scaling;
  const hold = holdOf(scaling === undefined ? undefined : spec.scalingPolicies[scaling]);
  return hold && { maxPending: hold.maxPending, maxWaitMs: toMilliseconds(hold.maxWait) };
}

/**
 * The Retry-After (seconds) of a request the hold refuses or gives up on: a
 * tenth of the wait the entry is given, at least one second, so clients come
 * back while it is likely starting rather than all at once when it is up.
 */
export function holdRetryAfterSeconds(limits: HoldLimits): number {
  return Math.max(1, Math.ceil(limits.maxWaitMs / 10_000));
}

/**
 * The region a call from `region` to a model version goes to: the caller's own when the model is
 * placed there, else the model's first region. Providers point functions' model URLs there, and
 * the calls count toward that region's demand.
 */
export function calledModelRegion(model: Pick<ModelSpec, "regions">, region: string): string {
  return model.regions.includes(region) ? region : model.regions[0];
}

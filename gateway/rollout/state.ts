/**
 * A rollout's state, as every gateway instance reads it from the store: the
 * phase, the step and the weight the rolled-out version gets, when the step
 * began, and the transitions so far with their evidence. Each transition
 * makes a new epoch; a write succeeds only over the epoch it was computed
 * from, so two instances can never both move the same step.
 */
import { z } from "zod";
import type { VersionSummary } from "./observations";
import type { RolloutPlan } from "./plan";

/** What a rollout can be doing. */
export const PHASES = ["progressing", "paused", "succeeded", "rolled-back", "aborted"] as const;
/** What a rollout is doing. */
export type Phase = (typeof PHASES)[number];

/** Each kind of transition, and the phase it leads to. */
export const TRANSITION_PHASE = {
  started: "progressing",
  advanced: "progressing",
  succeeded: "succeeded",
  "rolled-back": "rolled-back",
  paused: "paused",
  resumed: "progressing",
  aborted: "aborted",
} as const satisfies Record<string, Phase>;
/** A kind of transition. */
export type TransitionKind = keyof typeof TRANSITION_PHASE;

/** Transitions a state keeps, newest last: a rollout makes few, and pause/resume cannot grow it without bound. */
const HISTORY = 50;

const summary = z.object({
  requests: z.number(),
  errors: z.number(),
  errorRate: z.number(),
  p99Ms: z.number().optional(),
}) satisfies z.ZodType<VersionSummary>;

const transition = z.object({
  /** When (epoch ms). */
  at: z.number(),
  kind: z.enum(Object.keys(TRANSITION_PHASE) as [TransitionKind, ...TransitionKind[]]),
  /** The step (from 1) and the rolled-out version's percent after the transition. */
  step: z.number().int().min(1),
  weight: z.number().min(0).max(100),
  /** The gateway instance that made it. */
  instance: z.string(),
  /** Why: the gate's verdict, or the operator's action. */
  reason: z.string().optional(),
  /** Each version's observations in the step judged. */
  evidence: z.record(summary).optional(),
});

/** The stored state's schema: a document from the store that does not match it is never applied. */
export const RolloutStateSchema = z.object({
  epoch: z.number().int().min(1),
  phase: z.enum(PHASES),
  step: z.number().int().min(1),
  /** The rolled-out version's percent. */
  weight: z.number().min(0).max(100),
  /** When the current step (or phase) began (epoch ms). */
  since: z.number(),
  history: z.array(transition),
});

/** A rollout's state. */
export type RolloutState = z.infer<typeof RolloutStateSchema>;
/** One transition of a rollout. */
export type Transition = z.infer<typeof transition>;

/** The state a rollout starts in: step 1, at its first percent. */
export function startState(plan: RolloutPlan, now: number, instance: string): RolloutState {
  const first: Transition = { at: now, kind: "started", step: 1, weight: plan.steps[0], instance };
  return { epoch: 1, phase: "progressing", step: 1, weight: plan.steps[0], since: now, history: [first] };
}

/** The state after `change`, in a new epoch. */
export function afterTransition(state: RolloutState, change: Transition): RolloutState {
  return {
    epoch: state.epoch + 1,
    phase: TRANSITION_PHASE[change.kind],
    step: change.step,
    weight: change.weight,
    since: change.at,
    history: [...state.history, change].slice(-HISTORY),
  };
}

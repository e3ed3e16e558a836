/**
 * One route's rollout inside one gateway instance: the split its route
 * serves from (the same object across reloads, its weights replaced when the
 * state moves), the tally of what this instance served, and the state it
 * last applied. The request path only counts; everything else runs on the
 * controller's tick.
 */
import { compileSplit, type CompiledSplit } from "../routing/versions";
import { addObservations, Tally, type Observations } from "./observations";
import { weightsAt, type RolloutPlan } from "./plan";
import type { RolloutState } from "./state";
import type { ObservationBatch } from "./store";

/** A rollout as one instance runs it. */
export class Rollout {
  /** The split of the route: its weights are the declared ones until a state is known, then the state's. */
  readonly split: CompiledSplit;
  /** The state this instance serves, once it has read or written one. */
  state: RolloutState | undefined;
  private readonly tally: Tally;
  /** Counts not yet in the store, by epoch. */
  private readonly pending = new Map<number, Observations>();

  constructor(
    public plan: RolloutPlan,
    declaredWeights: Record<string, number>,
    sticky: boolean,
  ) {
    this.split = compileSplit(declaredWeights, sticky);
    this.tally = new Tally([plan.from, plan.to]);
  }

  /** Counts one finished request to `version` (the request path's only work). */
  observe(version: string, status: number, ms: number): void {
    this.tally.count(version, status, ms);
  }

  /** Takes a reloaded declaration of the same rollout (steps, interval, gate, stickiness may change). */
  replan(plan: RolloutPlan, sticky: boolean): void {
    this.plan = plan;
    this.split.sticky = sticky;
  }

  /** Serves `state` from now on; true when it is another epoch than the one served. */
  apply(state: RolloutState): boolean {
    if (this.state?.epoch === state.epoch) return false;
    this.settle();
    this.state = state;
    this.split.cumulative = compileSplit(weightsAt(this.plan, state.weight), this.split.sticky).cumulative;
    return true;
  }

  /** The counts to add to the store, taken out of this instance; `restore` puts them back when the store failed. */
  take(): ObservationBatch[] {
    this.settle();
    const batches = [...this.pending].map(([epoch, observations]) => ({ id: this.plan.id, epoch, observations }));
    this.pending.clear();
    return batches;
  }

  /** Puts counts `take` returned back, to be added at the next flush. */
  restore(batches: readonly ObservationBatch[]): void {
    for (const { epoch, observations } of batches) this.pending.set(epoch, addObservations(this.pending.get(epoch) ?? {}, observations));
  }

  /** Moves the tally's counts to the epoch they were served in; before any state is known they belong to no step. */
  private settle(): void {
    const counts = this.tally.drain();
    const epoch = this.state?.epoch;
    if (epoch === undefined || Object.keys(counts).length === 0) return;
    this.pending.set(epoch, addObservations(this.pending.get(epoch) ?? {}, counts));
  }
}

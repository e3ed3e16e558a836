/**
 * Where rollout state and observations live. With Redis every gateway
 * instance shares them (redis-store.ts); without it one instance keeps them
 * in memory (the local target), behind the same interface.
 */
import { addObservations, type Observations } from "./observations";
import type { RolloutState } from "./state";

/** A stored state that does not parse: it is never applied, and the gateway keeps the weights it knew. */
export class RolloutStateError extends Error {
  readonly code = "CL_ROLLOUT_STATE";
}

/** One instance's counts of one rollout in one epoch, on their way to the store. */
export interface ObservationBatch {
  id: string;
  epoch: number;
  observations: Observations;
}

/** Rollout state, observations and the lease that makes one instance the judge. */
export interface RolloutStore {
  /** `redis` when instances share it, `memory` otherwise. */
  readonly kind: "redis" | "memory";
  /** The state of rollout `id`, or undefined before it starts. Rejects when the store fails or holds a state that does not parse. */
  read(id: string): Promise<RolloutState | undefined>;
  /**
   * Writes `next` only if the stored epoch is still `expected` (undefined: no
   * state yet) and, with `lease`, only while that lease is held. False when
   * either has changed: someone else moved first.
   */
  write(id: string, expected: number | undefined, next: RolloutState, lease?: string): Promise<boolean>;
  /** Adds counts into their rollout's epoch. */
  record(batches: readonly ObservationBatch[]): Promise<void>;
  /** The counts of rollout `id` in `epoch`, from every instance. */
  observations(id: string, epoch: number): Promise<Observations>;
  /** Takes the lease for `token`, or extends it when `token` holds it; false when another holds it. */
  hold(token: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up, if `token` holds it. */
  release(token: string): Promise<void>;
}

/** The store of a single gateway: its own lease, state and counts in memory. */
export class MemoryRolloutStore implements RolloutStore {
  readonly kind = "memory";
  private readonly states = new Map<string, RolloutState>();
  private readonly counts = new Map<string, { epoch: number; observations: Observations }>();

  async read(id: string): Promise<RolloutState | undefined> {
    const state = this.states.get(id);
    return state && structuredClone(state);
  }

  async write(id: string, expected: number | undefined, next: RolloutState): Promise<boolean> {
    if (this.states.get(id)?.epoch !== expected) return false;
    this.states.set(id, structuredClone(next));
    return true;
  }

  async record(batches: readonly ObservationBatch[]): Promise<void> {
    for (const { id, epoch, observations } of batches) {
      // Only the current epoch's counts are ever judged: an older epoch's are dropped.
      let entry = this.counts.get(id);
      if (!entry || entry.epoch < epoch) this.counts.set(id, (entry = { epoch, observations: {} }));
      if (entry.epoch === epoch) addObservations(entry.observations, observations);
    }
  }

  async observations(id: string, epoch: number): Promise<Observations> {
    const entry = this.counts.get(id);
    return entry?.epoch === epoch ? structuredClone(entry.observations) : {};
  }

  async hold(): Promise<boolean> {
    return true;
  }

  async release(): Promise<void> {}
}

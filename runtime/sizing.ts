/** Turns a spec scaling policy into local pool sizes. */
import { CloudloomPolicy } from "../sdk/prewarm/cloudloom";
import type { KeepAlivePolicy } from "../sdk/prewarm/policies";
import { toMilliseconds, type ScalingPolicySpec } from "../sdk/spec";

/** Min, max and idle window of a local pool, its memory, and its keep-alive policy when pre-warm is declared. */
export interface PoolSizing {
  min: number;
  max: number;
  idleWindowMs: number;
  /** Memory of one instance (MB): what an idle minute of it costs. */
  memoryMb: number;
  keepAlive?: KeepAlivePolicy;
}

/** Idle instances above the floor unload after this, when no scale-to-zero window is declared. */
const DEFAULT_IDLE_MS = 5 * 60_000;

/**
 * Local pool sizing for an entry. Without a policy: one instance, never
 * unloaded. With scale-to-zero, the floor is zero and the window is the
 * declared one; with `prewarm` too, cloudloom's keep-alive policy decides
 * the windows from the entry's own idle times, knowing the entry's memory
 * the way the benchmark's replay tells it each unit's memory.
 */
export function poolSizing(policy: ScalingPolicySpec | undefined, memoryMb: number): PoolSizing {
  if (!policy) return { min: 1, max: 1, idleWindowMs: DEFAULT_IDLE_MS, memoryMb };
  return {
    min: policy.scaleToZero ? 0 : policy.minInstances,
    max: Math.max(1, policy.maxInstances),
    idleWindowMs: policy.scaleToZero ? toMilliseconds(policy.scaleToZero.idleWindow) : DEFAULT_IDLE_MS,
    memoryMb,
    keepAlive: policy.scaleToZero && policy.prewarm ? new CloudloomPolicy({ unitMb: memoryMb }) : undefined,
  };
}

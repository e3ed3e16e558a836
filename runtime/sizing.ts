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

/** How one model version's sessions spread over the machine's cores. */
export interface SessionThreadSizing {
  /** Session threads loaded at least, and at most. */
  min: number;
  max: number;
  /** onnxruntime intra-op threads of each session. */
  intraOpNumThreads: number;
}

/**
 * Session threads of one model version: the pool's sizes, capped at the
 * cores (more threads than cores only take turns, where batching would have
 * served them together). Each session's intra-op threads share the cores
 * left beside the event loop's, at least one: on a 2-core machine that is
 * one thread per session, which measured best there (2 made p99 5–10× worse).
 */
export function sessionThreadSizing(sizing: Pick<PoolSizing, "min" | "max">, cores: number): SessionThreadSizing {
  const max = Math.max(1, Math.min(sizing.max, cores));
  return {
    min: Math.min(sizing.min, max),
    max,
    intraOpNumThreads: Math.max(1, Math.floor((cores - 1) / max)),
  };
}

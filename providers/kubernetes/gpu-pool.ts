/**
 * A GPU pool on Kubernetes is not a resource: it is the node selector,
 * toleration and GPU limit that put a model's pods on the pool's nodes.
 */
import type * as input from "@pulumi/kubernetes/types/input";
import type { GpuPoolSpec } from "../../sdk/spec";
import { acceleratorSelector, type AcceleratorLabelScheme } from "./accelerator-labels";
import type { KubernetesContext } from "./context";

/** Node selector, toleration and limits that put a workload on a GPU pool. */
export function gpuScheduling(pool: GpuPoolSpec, labels: AcceleratorLabelScheme) {
  return {
    nodeSelector: acceleratorSelector(labels, pool.accelerator as never),
    toleration: { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" } satisfies input.core.v1.Toleration,
    limits: { "nvidia.com/gpu": String(pool.gpusPerInstance) },
  };
}

/** The gpuPools step: each pool's scheduling, for the models placed on it. */
export function placeGpuPools(context: KubernetesContext): void {
  for (const [name, pool] of Object.entries(context.spec.gpuPools))
    context.pools.set(name, gpuScheduling(pool, context.args.acceleratorLabels));
}

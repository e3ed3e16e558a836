/** GPU pools are bounded and use approved accelerators. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { appSpecs, reportAt } from "../resources";

/** Config of the GPU cost guard. */
export interface GpuCostGuardConfig {
  maxNodesPerPool: number;
  allowedAccelerators: string[];
}

/** Every GPU pool has a max size within budget and an allowed accelerator. */
export const gpuCostGuard: StackValidationPolicy = {
  name: "cloudloom-gpu-cost-guard",
  description: "GPU pools declare a max size no larger than maxNodesPerPool and use an accelerator from allowedAccelerators.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      maxNodesPerPool: { type: "integer", minimum: 1, default: 16 },
      allowedAccelerators: { type: "array", items: { type: "string" }, default: ["nvidia-t4", "nvidia-a10", "nvidia-l4", "nvidia-l20"] },
    },
  },
  validateStack: (args, report) => {
    const { maxNodesPerPool, allowedAccelerators } = args.getConfig<GpuCostGuardConfig>();
    for (const { resource, spec } of appSpecs(args.resources)) {
      for (const [name, pool] of Object.entries(spec.gpuPools)) {
        if (pool.maxSize > maxNodesPerPool)
          reportAt(
            report,
            `GPU pool ${name} may grow to ${pool.maxSize} nodes, above the limit of ${maxNodesPerPool}; lower maxSize or raise maxNodesPerPool in the policy config`,
            resource.urn,
            `gpuPools.${name}`,
          );
        if (!allowedAccelerators.includes(pool.accelerator))
          reportAt(
            report,
            `GPU pool ${name} uses ${pool.accelerator}, which is not in allowedAccelerators (${allowedAccelerators.join(", ")}); pick an allowed one or extend the list`,
            resource.urn,
            `gpuPools.${name}`,
          );
      }
    }
    for (const r of args.resources) {
      const max =
        r.type === "aws:eks/nodeGroup:NodeGroup"
          ? r.props.scalingConfig?.maxSize
          : r.type === "alicloud:cs/nodePool:NodePool"
            ? r.props.scalingConfig?.maxSize
            : undefined;
      if (max !== undefined && max > maxNodesPerPool)
        report(`${r.type.split(":")[1]} ${r.name} may grow to ${max} nodes, above the limit of ${maxNodesPerPool}`, r.urn);
    }
  },
};

/**
 * Alibaba Cloud rules. Functions and serverless models run on Function
 * Compute 3.0, Kubernetes-platform pools on regional ACK node pools; in a
 * region whose placement names an `ensRegion` they run as runtime containers
 * on ENS instances instead, which the edge rule (edge.ts) checks against what
 * the ENS node sells. FC sets memory in 64 MB steps and GPU
 * memory in 1,024 MB steps, gives a GPU instance one GPU, and caps instance
 * concurrency; those pool limits apply to serverless pools only.
 */
import { ACCELERATORS, type Accelerator } from "../accelerators";
import { FC_LIMITS, poolPlatform } from "../targets";
import { toMegabytes } from "../units";
import { entries, type Rule } from "./report";

/** Checks Function Compute limits for the alicloud target. */
export const alicloudRule: Rule = (spec, context, report) => {
  if (context.target !== "alicloud") return;
  for (const [name, fn] of entries(spec.functions)) {
    if (toMegabytes(fn.memory) % FC_LIMITS.memoryStepMb !== 0)
      report(
        "CL_FC_LIMIT",
        `functions.${name}.memory`,
        `${fn.memory} is not a multiple of ${FC_LIMITS.memoryStepMb} MB (${FC_LIMITS.source})`,
        `round memory to a multiple of ${FC_LIMITS.memoryStepMb} MB`,
      );
    if (fn.concurrency > FC_LIMITS.maxInstanceConcurrency)
      report(
        "CL_FC_LIMIT",
        `functions.${name}.concurrency`,
        `concurrency ${fn.concurrency} is above ${FC_LIMITS.maxInstanceConcurrency} per instance (${FC_LIMITS.source})`,
        `lower concurrency to ${FC_LIMITS.maxInstanceConcurrency} or less; FC adds instances for more`,
      );
  }
  const onFunctionCompute = (pool: string | undefined) => !pool || poolPlatform(spec.gpuPools[pool] ?? {}, "alicloud") === "serverless";
  for (const [key, model] of entries(spec.models)) {
    if (model.memory && onFunctionCompute(model.pool) && toMegabytes(model.memory) % FC_LIMITS.memoryStepMb !== 0)
      report(
        "CL_FC_LIMIT",
        `models.${key}.memory`,
        `${model.memory} is not a multiple of ${FC_LIMITS.memoryStepMb} MB, as the memory of an FC model function must be (${FC_LIMITS.source})`,
        `round memory to a multiple of ${FC_LIMITS.memoryStepMb} MB`,
      );
  }
  for (const [name, pool] of entries(spec.gpuPools)) {
    if (poolPlatform(pool, "alicloud") === "kubernetes") continue;
    const mapping = ACCELERATORS[pool.accelerator as Accelerator] as { alicloud?: { fcGpuType?: string } } | undefined;
    if (mapping?.alicloud && !mapping.alicloud.fcGpuType)
      report(
        "CL_FC_LIMIT",
        `gpuPools.${name}.accelerator`,
        `Function Compute offers no ${pool.accelerator} GPU (${FC_LIMITS.source})`,
        'use nvidia-t4, nvidia-a10 or nvidia-l20 on Function Compute, or set platform: "kubernetes" to run the pool on ACK',
      );
    if (toMegabytes(pool.gpuMemory) % FC_LIMITS.gpuMemoryStepMb !== 0)
      report(
        "CL_FC_LIMIT",
        `gpuPools.${name}.gpuMemory`,
        `${pool.gpuMemory} is not a multiple of ${FC_LIMITS.gpuMemoryStepMb} MB, as FC GPU memory must be (${FC_LIMITS.source})`,
        `round gpuMemory to a multiple of ${FC_LIMITS.gpuMemoryStepMb} MB, e.g. "16 GB"`,
      );
    if (pool.gpusPerInstance !== 1)
      report(
        "CL_FC_LIMIT",
        `gpuPools.${name}.gpusPerInstance`,
        `an FC GPU instance has one GPU, not ${pool.gpusPerInstance} (${FC_LIMITS.source})`,
        "set gpusPerInstance to 1; FC scales out with more instances",
      );
  }
};

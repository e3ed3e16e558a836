/**
 * GPU pools on Alibaba Cloud. On Function Compute a pool is not a resource:
 * each model function carries its pool's GPU type and memory (`gpuConfig`),
 * and FC schedules it. Pools that ask for Kubernetes become ACK GPU node
 * pools (cluster.ts), in every region running their models.
 */
import { ACCELERATORS, toMegabytes, type Accelerator, type GpuPoolSpec } from "../../sdk/spec";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import { ackRegions } from "./ack-settings";
import { artifactReader } from "./artifact-reader";
import { AckCluster } from "./cluster";
import { ackModelsIn } from "./cluster-models";
import type { AlicloudContext } from "./context";

/** FC's GPU type and memory for a pool: the catalog's type, the pool's GPU memory in MB (a multiple of 1,024). */
export function fcGpu(pool: GpuPoolSpec): { gpuType: string; gpuMemorySize: number } {
  const mapping = ACCELERATORS[pool.accelerator as Accelerator] as { alicloud?: { fcGpuType?: string } };
  const gpuType = mapping.alicloud?.fcGpuType;
  if (!gpuType) throw new Error(`Function Compute offers no ${pool.accelerator} GPU`);
  return { gpuType, gpuMemorySize: toMegabytes(pool.gpuMemory) };
}

/** The gpuPools step: per region running Kubernetes-platform pools' models, the ACK cluster, its GPU node pools and their artifact reader. */
export function placeGpuPools(context: AlicloudContext): void {
  const { spec, args, name, parent } = context;
  for (const region of ackRegions(spec)) {
    const { provider } = context.regions.get(region)!;
    const keys = ackModelsIn(spec, region);
    const cluster = new AckCluster(resourceName(name, region, "ack"), { app: spec.app, settings: args.ack![region] }, { parent, provider });
    const reader = artifactReader(
      resourceName(name, region, "gpu-nodes"),
      "ecs.aliyuncs.com",
      keys.map((key) => context.artifacts.get(`${key}/${region}`)!),
      entryLabels(spec.app, "app", spec.app),
      { parent, provider },
    );
    const poolNames = [...new Set(keys.map((key) => spec.models[key].pool!))].sort();
    const pools = poolNames.map((pool) => cluster.addGpuPool(resourceName(name, pool, region), pool, spec.gpuPools[pool], reader));
    context.clusters.set(region, { cluster, pools, reader });
  }
}

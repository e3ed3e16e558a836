/** ECS GPU instance types for an ACK node pool: the catalog's family, sized by GPUs per instance. */
import { ACCELERATORS, type Accelerator, type GpuPoolSpec } from "../../sdk/spec";

/** Instance type per GPU count, per family (Alibaba Cloud's published GPU shapes). */
const SHAPES: Record<string, Record<number, string>> = {
  "ecs.gn6i": { 1: "ecs.gn6i-c4g1.xlarge", 2: "ecs.gn6i-c24g1.12xlarge", 4: "ecs.gn6i-c24g1.24xlarge" },
  "ecs.gn7i": { 1: "ecs.gn7i-c8g1.2xlarge", 2: "ecs.gn7i-c32g1.16xlarge", 4: "ecs.gn7i-c32g1.32xlarge" },
  "ecs.gn8is": { 1: "ecs.gn8is.2xlarge", 2: "ecs.gn8is-2x.8xlarge", 4: "ecs.gn8is-4x.16xlarge", 8: "ecs.gn8is-8x.32xlarge" },
  "ecs.gn7e": { 1: "ecs.gn7e-c16g1.4xlarge", 2: "ecs.gn7e-c16g1.8xlarge", 4: "ecs.gn7e-c16g1.16xlarge", 8: "ecs.gn7e-c16g1.32xlarge" },
};

/** The ECS instance type of a pool's nodes, or an error naming the counts the family offers. */
export function ecsGpuInstanceType(pool: GpuPoolSpec): string {
  const family = (ACCELERATORS[pool.accelerator as Accelerator] as { alicloud?: { ecsFamily: string } }).alicloud?.ecsFamily;
  if (!family) throw new Error(`${pool.accelerator} is not offered on Alibaba Cloud`);
  const shape = SHAPES[family]?.[pool.gpusPerInstance];
  if (!shape)
    throw new Error(
      `${family} has no instance with ${pool.gpusPerInstance} GPUs; set gpusPerInstance to one of ${Object.keys(SHAPES[family]).join(", ")}`,
    );
  return shape;
}

/** EC2 GPU instance types for a pool: the catalog's family, sized by GPUs per instance. */
import { ACCELERATORS, type Accelerator, type GpuPoolSpec } from "../../sdk/spec";

/** Size suffix per GPU count, per family (AWS's published shapes). */
const SIZES: Record<string, Record<number, string>> = {
  g4dn: { 1: "xlarge", 4: "12xlarge", 8: "metal" },
  g5: { 1: "xlarge", 4: "12xlarge", 8: "48xlarge" },
  g6: { 1: "xlarge", 4: "12xlarge", 8: "48xlarge" },
  p4de: { 8: "24xlarge" },
  p5: { 8: "48xlarge" },
};

/** The instance type of a pool on AWS, or an error naming the counts the family offers. */
export function gpuInstanceType(pool: GpuPoolSpec): string {
  const family = (ACCELERATORS[pool.accelerator as Accelerator] as { aws?: { instanceFamily: string } }).aws?.instanceFamily;
  if (!family) throw new Error(`${pool.accelerator} is not offered on AWS`);
  const size = SIZES[family]?.[pool.gpusPerInstance];
  if (!size)
    throw new Error(
      `${family} has no instance with ${pool.gpusPerInstance} GPUs; set gpusPerInstance to one of ${Object.keys(SIZES[family]).join(", ")}`,
    );
  return `${family}.${size}`;
}

/**
 * The accelerator catalog: one row per GPU model cloudloom knows, with its
 * mapping onto each target. Validation uses it to refuse a pool that a target
 * cannot host; providers use it to pick instance and GPU types, so the two
 * can never disagree.
 */
import type { Target } from "./targets";

/** How one accelerator is provisioned on each target; absent = not offered there. */
export interface AcceleratorMapping {
  /** GPU memory per device, in GB. */
  memoryGb: number;
  /** EC2 instance family of the EKS node group. */
  aws?: { instanceFamily: string };
  /** Function Compute GPU type and/or the ACK node pool's ECS family, and the ENS (edge) instance family. */
  alicloud?: { fcGpuType?: string; ecsFamily: string; ensFamily?: string };
  /** Default value of the accelerator node label (GKE style; overridable per pool). */
  kubernetes?: { label: string };
}

/** Accelerators cloudloom can place, keyed by the name used in declarations. */
export const ACCELERATORS = {
  "nvidia-t4": {
    memoryGb: 16,
    aws: { instanceFamily: "g4dn" },
    alicloud: { fcGpuType: "fc.gpu.tesla.1", ecsFamily: "ecs.gn6i", ensFamily: "ens.gn6i" },
    kubernetes: { label: "nvidia-tesla-t4" },
  },
  "nvidia-a10": {
    memoryGb: 24,
    aws: { instanceFamily: "g5" },
    alicloud: { fcGpuType: "fc.gpu.ampere.1", ecsFamily: "ecs.gn7i" },
    kubernetes: { label: "nvidia-a10g" },
  },
  "nvidia-l4": {
    memoryGb: 24,
    aws: { instanceFamily: "g6" },
    kubernetes: { label: "nvidia-l4" },
  },
  "nvidia-l20": {
    memoryGb: 48,
    alicloud: { fcGpuType: "fc.gpu.ada.1", ecsFamily: "ecs.gn8is" },
    kubernetes: { label: "nvidia-l20" },
  },
  "nvidia-a100": {
    memoryGb: 80,
    aws: { instanceFamily: "p4de" },
    alicloud: { ecsFamily: "ecs.gn7e" },
    kubernetes: { label: "nvidia-tesla-a100" },
  },
  "nvidia-h100": {
    memoryGb: 80,
    aws: { instanceFamily: "p5" },
    kubernetes: { label: "nvidia-h100-80gb" },
  },
} satisfies Record<string, AcceleratorMapping>;

/** An accelerator name from the catalog. */
export type Accelerator = keyof typeof ACCELERATORS;

/** True when `value` names an accelerator in the catalog. */
export function isAccelerator(value: unknown): value is Accelerator {
  return typeof value === "string" && Object.hasOwn(ACCELERATORS, value);
}

/** The targets that offer `accelerator`, in catalog order. */
export function targetsOffering(accelerator: Accelerator): Target[] {
  const mapping: AcceleratorMapping = ACCELERATORS[accelerator];
  return (["aws", "alicloud", "kubernetes"] as const).filter((target) => mapping[target] !== undefined);
}

/**
 * How GPU nodes are labelled with their accelerator. Clusters differ: GKE,
 * EKS and ACK each use their own key and values, and a user may declare
 * their own.
 */
import { ACCELERATORS, type Accelerator } from "../../sdk/spec";

/** A label key and the value for each accelerator. */
export interface AcceleratorLabelScheme {
  key: string;
  values: Partial<Record<Accelerator, string>>;
}

const catalogValues = Object.fromEntries(
  Object.entries(ACCELERATORS).map(([name, row]) => [name, (row as { kubernetes?: { label: string } }).kubernetes?.label]),
) as Record<Accelerator, string>;

/** Documented defaults per managed Kubernetes. */
export const ACCELERATOR_LABEL_PRESETS: Record<"gke" | "eks" | "ack", AcceleratorLabelScheme> = {
  gke: { key: "cloud.google.com/gke-accelerator", values: catalogValues },
  eks: { key: "k8s.amazonaws.com/accelerator", values: catalogValues },
  ack: {
    key: "aliyun.accelerator/nvidia_name",
    values: { "nvidia-t4": "Tesla-T4", "nvidia-a10": "NVIDIA-A10", "nvidia-l20": "NVIDIA-L20", "nvidia-a100": "NVIDIA-A100-SXM4-80GB" },
  },
};

/** The label selecting nodes with `accelerator`. */
export function acceleratorSelector(scheme: AcceleratorLabelScheme, accelerator: Accelerator): Record<string, string> {
  const value = scheme.values[accelerator];
  if (!value)
    throw new Error(`accelerator label scheme "${scheme.key}" has no value for ${accelerator}; add one under acceleratorLabels.values`);
  return { [scheme.key]: value };
}

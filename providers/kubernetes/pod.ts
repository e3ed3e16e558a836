/**
 * Pure builders of pod specs: region pinning, GPU scheduling, resources and
 * environment. No Pulumi here, so every rule is testable on plain data.
 */
import type * as input from "@pulumi/kubernetes/types/input";
import { toMegabytes, type EnvValue, type GpuPoolSpec, type RegionSpec } from "../../sdk/spec";
import { CONTAINER_PORT, HEALTH_PATHS } from "../../runtime/contract";
import { acceleratorSelector, type AcceleratorLabelScheme } from "./accelerator-labels";

type PodSpec = input.core.v1.PodSpec;
type Toleration = input.core.v1.Toleration;

/** Node affinity and tolerations that pin a workload to one region. */
export function regionScheduling(region: RegionSpec): Pick<PodSpec, "affinity" | "tolerations"> {
  const labels = region.placement.kubernetes?.labels ?? {};
  const expressions = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => ({ key, operator: "In", values: [value] }));
  const tolerations: Toleration[] = (region.placement.kubernetes?.tolerations ?? []).map((key) => ({
    key,
    operator: "Exists",
    effect: "NoSchedule",
  }));
  return {
    affinity: expressions.length
      ? { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: expressions }] } } }
      : undefined,
    tolerations,
  };
}

/** Node selector, toleration and limits that put a workload on a GPU pool. */
export function gpuScheduling(pool: GpuPoolSpec, labels: AcceleratorLabelScheme) {
  return {
    nodeSelector: acceleratorSelector(labels, pool.accelerator as never),
    toleration: { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" } satisfies Toleration,
    limits: { "nvidia.com/gpu": String(pool.gpusPerInstance) },
  };
}

/** Memory and CPU from a declared memory size: CPU grows with memory, as on Lambda (1 vCPU per 1,769 MB). */
export function functionResources(memory: string): input.core.v1.ResourceRequirements {
  const mb = toMegabytes(memory as never);
  const millicpu = Math.max(100, Math.round((mb / 1769) * 1000));
  return { requests: { memory: `${mb}Mi`, cpu: `${millicpu}m` }, limits: { memory: `${mb}Mi` } };
}

/** Container env: literal values inline; secrets as references to the app's Secret, never values. */
export function containerEnv(environment: Record<string, EnvValue>, secretName: string): input.core.v1.EnvVar[] {
  return Object.entries(environment)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) =>
      typeof value === "string" ? { name, value } : { name, valueFrom: { secretKeyRef: { name: secretName, key: value.secret } } },
    );
}

/** Liveness and readiness probes on the runtime's health endpoints. */
export function healthProbes(): Pick<input.core.v1.Container, "livenessProbe" | "readinessProbe"> {
  return {
    livenessProbe: { httpGet: { path: HEALTH_PATHS.live, port: CONTAINER_PORT }, periodSeconds: 10, failureThreshold: 3 },
    readinessProbe: { httpGet: { path: HEALTH_PATHS.ready, port: CONTAINER_PORT }, periodSeconds: 5, failureThreshold: 2 },
  };
}

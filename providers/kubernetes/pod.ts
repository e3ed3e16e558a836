/**
 * Pure builders of container fields every workload shares: resources,
 * environment and health probes. No Pulumi here, so every rule is testable
 * on plain data.
 */
import type * as input from "@pulumi/kubernetes/types/input";
import { toMegabytes, type EnvValue } from "../../sdk/spec";
import { CONTAINER_PORT, HEALTH_PATHS } from "../../runtime/contract";

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

/**
 * Every deployed gateway's metrics take a token: its `/metrics` and
 * `/metrics/demand` show route names, tenants' traffic and demand, and a
 * gateway without `CLOUDLOOM_METRICS_TOKEN` in front of remote endpoints takes
 * only the admin key there, which Prometheus and KEDA do not hold. The token
 * comes from the cloud's secret store, never a literal:
 * - a Kubernetes gateway Deployment: the variable from a Secret (`valueFrom.secretKeyRef`);
 * - an ECS gateway task: the variable among its containers' `secrets` (Secrets Manager);
 * - an FC gateway function: the variable named in `CLOUDLOOM_KMS_SECRETS` (a KMS secret it reads at startup).
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { RUNTIME_ENV } from "../../runtime/contract";
import { labelsOf, podSpecOf, unwrap, type PlannedPolicyResource } from "../resources";

const VARIABLE = RUNTIME_ENV.metricsToken;

/** A JSON string's value, or undefined when it is not JSON. */
function parsed(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** What is wrong with how a gateway resource gets its metrics token, if it is a gateway and anything is. */
function problem(r: PlannedPolicyResource): string | undefined {
  if (labelsOf(r)["cloudloom.dev/kind"] !== "gateway") return undefined;
  if (r.type === "kubernetes:apps/v1:Deployment") {
    const containers: Array<{ env?: Array<{ name?: string; valueFrom?: { secretKeyRef?: unknown } }> }> = podSpecOf(r)?.containers ?? [];
    const found = containers.flatMap((c) => c.env ?? []).find((e) => e.name === VARIABLE);
    if (!found) return `sets no ${VARIABLE}; give it from the metrics token's Secret (valueFrom.secretKeyRef)`;
    if (!found.valueFrom?.secretKeyRef)
      return `sets ${VARIABLE} as a literal; take it from the metrics token's Secret (valueFrom.secretKeyRef)`;
    return undefined;
  }
  if (r.type === "aws:ecs/taskDefinition:TaskDefinition") {
    const containers = parsed(unwrap(r.props.containerDefinitions));
    const all: Array<{ environment?: Array<{ name?: string }>; secrets?: Array<{ name?: string }> }> = Array.isArray(containers)
      ? containers
      : [];
    if (all.some((c) => (c.environment ?? []).some((e) => e.name === VARIABLE)))
      return `sets ${VARIABLE} in its plain environment; take it from a Secrets Manager secret through the container's secrets (valueFrom)`;
    if (!all.some((c) => (c.secrets ?? []).some((s) => s.name === VARIABLE)))
      return `sets no ${VARIABLE}; take it from a Secrets Manager secret through the container's secrets (valueFrom)`;
    return undefined;
  }
  if (r.type === "alicloud:fc/v3Function:V3Function") {
    const environment = (unwrap(r.props.environmentVariables) ?? {}) as Record<string, unknown>;
    if (VARIABLE in environment) return `sets ${VARIABLE} in its environment; name its KMS secret in ${RUNTIME_ENV.kmsSecrets} instead`;
    const named = parsed(environment[RUNTIME_ENV.kmsSecrets]) as Record<string, unknown> | undefined;
    if (!named || typeof named !== "object" || !(VARIABLE in named))
      return `names no KMS secret for ${VARIABLE} in ${RUNTIME_ENV.kmsSecrets}; its public trigger would serve its metrics to the admin key alone`;
    return undefined;
  }
  return undefined;
}

/** A deployed gateway's metrics take a token from the cloud's secret store. */
export const gatewayMetricsToken: StackValidationPolicy = {
  name: "cloudloom-gateway-metrics-token",
  description:
    "Every gateway (a Kubernetes Deployment, an ECS task, an FC function) gets CLOUDLOOM_METRICS_TOKEN from the cloud's secret store, so its /metrics and /metrics/demand are not open to whoever reaches it.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    for (const r of resources) {
      const found = problem(r);
      if (found) report(`gateway ${r.name} ${found}`, r.urn);
    }
  },
};

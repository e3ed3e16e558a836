/** Every namespace that runs workloads has a default-deny NetworkPolicy (ingress and egress). */
import type { StackValidationPolicy } from "@pulumi/policy";
import { podSpecOf } from "./k8s-pod-security";

/** A policy that selects every pod and denies both directions (rules may be absent or empty). */
export function isDefaultDeny(props: Record<string, any>): boolean {
  const spec = props.spec ?? {};
  const selectsAll =
    Object.keys(spec.podSelector?.matchLabels ?? {}).length === 0 && (spec.podSelector?.matchExpressions ?? []).length === 0;
  const types: string[] = spec.policyTypes ?? [];
  return (
    selectsAll &&
    types.includes("Ingress") &&
    types.includes("Egress") &&
    (spec.ingress ?? []).length === 0 &&
    (spec.egress ?? []).length === 0
  );
}

export const k8sNetworkPolicyCoverage: StackValidationPolicy = {
  name: "cloudloom-k8s-network-policy",
  description:
    "Each namespace with workloads denies all traffic by default (a NetworkPolicy selecting every pod, ingress and egress, no rules).",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    const denied = new Set(
      resources
        .filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && isDefaultDeny(r.props))
        .map((r) => String(r.props.metadata?.namespace ?? "default")),
    );
    for (const r of resources) {
      if (!podSpecOf(r)) continue;
      const namespace = String(r.props.metadata?.namespace ?? "default");
      if (!denied.has(namespace))
        report(
          `${r.type.split(":")[2]} ${r.name} runs in namespace ${namespace}, which has no default-deny NetworkPolicy; add one (podSelector: {}, policyTypes: [Ingress, Egress]) and allow the flows it needs`,
          r.urn,
        );
    }
  },
};

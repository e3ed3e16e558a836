/** Autoscaled Deployments, and those that keep two replicas or more, have a PodDisruptionBudget. */
import type { StackValidationPolicy } from "@pulumi/policy";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";

const key = (namespace: unknown, name: unknown) => `${String(namespace ?? "default")}/${String(name)}`;

/** Namespace/name of every Deployment an HPA or ScaledObject scales. */
export function autoscaledDeployments(resources: ReadonlyArray<{ type: string; props: Record<string, any> }>): Set<string> {
  return new Set(
    resources
      .filter((r) => r.type === HPA || r.type === SCALED_OBJECT)
      .filter((r) => (r.props.spec?.scaleTargetRef?.kind ?? "Deployment") === "Deployment")
      .map((r) => key(r.props.metadata?.namespace, r.props.spec?.scaleTargetRef?.name)),
  );
}

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

export const k8sDisruptionBudgets: StackValidationPolicy = {
  name: "cloudloom-k8s-disruption-budgets",
  description: "A Deployment that is autoscaled or keeps two replicas or more has a PodDisruptionBudget selecting its pods.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    const scaled = autoscaledDeployments(resources);
    const budgets = resources.filter((r) => r.type === PDB);
    for (const r of resources.filter((x) => x.type === DEPLOYMENT)) {
      const namespace = r.props.metadata?.namespace;
      const needs = scaled.has(key(namespace, r.props.metadata?.name)) || Number(r.props.spec?.replicas ?? 1) >= 2;
      if (!needs) continue;
      const labels = r.props.spec?.template?.metadata?.labels ?? {};
      const covered = budgets.some(
        (b) => key(b.props.metadata?.namespace, "") === key(namespace, "") && selects(b.props.spec?.selector?.matchLabels ?? {}, labels),
      );
      if (!covered)
        report(
          `Deployment ${r.name} is autoscaled or keeps 2+ replicas but no PodDisruptionBudget selects its pods; add one with maxUnavailable: 1`,
          r.urn,
        );
    }
  },
};

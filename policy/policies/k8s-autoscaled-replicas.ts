/** A Deployment an HPA or ScaledObject owns sets no `replicas`: each apply would reset the autoscaler's count. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { autoscaledDeployments } from "./k8s-disruption-budgets";

export const k8sNoReplicasUnderAutoscaler: StackValidationPolicy = {
  name: "cloudloom-k8s-no-replicas-under-autoscaler",
  description: "A Deployment scaled by an HPA or a KEDA ScaledObject leaves spec.replicas unset.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    const scaled = autoscaledDeployments(resources);
    for (const r of resources) {
      if (r.type !== "kubernetes:apps/v1:Deployment" || r.props.spec?.replicas === undefined) continue;
      if (scaled.has(`${String(r.props.metadata?.namespace ?? "default")}/${String(r.props.metadata?.name)}`))
        report(
          `Deployment ${r.name} sets replicas: ${String(r.props.spec.replicas)} but an autoscaler owns its replicas; remove the field`,
          r.urn,
        );
    }
  },
};

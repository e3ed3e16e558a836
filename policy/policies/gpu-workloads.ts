/** GPU workloads on Kubernetes can be scheduled on GPU nodes and are autoscaled. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { podSpecOf } from "../resources";

/** A Deployment that asks for nvidia.com/gpu tolerates the GPU taint, sets the limit, and has an HPA or ScaledObject. */
export const gpuWorkloads: StackValidationPolicy = {
  name: "cloudloom-gpu-workloads-schedulable",
  description: "Kubernetes GPU workloads tolerate nvidia.com/gpu, set nvidia.com/gpu limits and have an autoscaler.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    const scaled = new Set(
      resources.flatMap((r) => {
        if (r.type === "kubernetes:autoscaling/v2:HorizontalPodAutoscaler") return [r.props.spec?.scaleTargetRef?.name];
        if (r.type === "kubernetes:keda.sh/v1alpha1:ScaledObject") return [r.props.spec?.scaleTargetRef?.name];
        return [];
      }),
    );
    for (const r of resources.filter((x) => x.type === "kubernetes:apps/v1:Deployment")) {
      const pod = podSpecOf(r);
      const wantsGpu =
        Boolean(pod?.nodeSelector && Object.keys(pod.nodeSelector).some((k: string) => k.includes("accelerator"))) ||
        (pod?.containers ?? []).some((c: any) => c.resources?.limits?.["nvidia.com/gpu"] || c.resources?.requests?.["nvidia.com/gpu"]);
      if (!wantsGpu) continue;
      const name = r.props.metadata?.name ?? r.name;
      if (!(pod?.tolerations ?? []).some((t: any) => t.key === "nvidia.com/gpu"))
        report(
          `GPU Deployment ${name} does not tolerate the nvidia.com/gpu taint; add a toleration (operator Exists, effect NoSchedule)`,
          r.urn,
        );
      if (!(pod?.containers ?? []).some((c: any) => c.resources?.limits?.["nvidia.com/gpu"]))
        report(`GPU Deployment ${name} sets no nvidia.com/gpu limit; set resources.limits["nvidia.com/gpu"]`, r.urn);
      if (!scaled.has(name))
        report(`GPU Deployment ${name} has no HorizontalPodAutoscaler or ScaledObject; give its model a scaling policy`, r.urn);
    }
  },
};

/** Every pod meets the Pod Security Standards' restricted profile, init containers included. */
import type { StackValidationPolicy } from "@pulumi/policy";

type Context = Record<string, any> | undefined;

/** Kinds whose `spec.template.spec` is a pod spec. */
export const POD_TEMPLATE_TYPES = [
  "kubernetes:apps/v1:Deployment",
  "kubernetes:apps/v1:StatefulSet",
  "kubernetes:apps/v1:DaemonSet",
  "kubernetes:batch/v1:Job",
] as const;

/** The pod spec of a workload resource, if it has one. */
export function podSpecOf(r: { type: string; props: Record<string, any> }): Record<string, any> | undefined {
  if (r.type === "kubernetes:batch/v1:CronJob") return r.props.spec?.jobTemplate?.spec?.template?.spec;
  if (r.type === "kubernetes:core/v1:Pod") return r.props.spec;
  return (POD_TEMPLATE_TYPES as readonly string[]).includes(r.type) ? r.props.spec?.template?.spec : undefined;
}

/** What one container (with its pod's context) lacks of the restricted profile. */
export function restrictedProblems(container: Record<string, any>, pod: Context): string[] {
  const c: Context = container.securityContext;
  const either = <T>(key: string): T | undefined => (c?.[key] ?? pod?.[key]) as T | undefined;
  const problems: string[] = [];
  if (either<boolean>("runAsNonRoot") !== true) problems.push("runAsNonRoot: true");
  const user = either<number>("runAsUser");
  if (typeof user !== "number" || user === 0) problems.push("a non-root numeric runAsUser");
  const group = either<number>("runAsGroup");
  if (typeof group !== "number" || group === 0) problems.push("a non-root numeric runAsGroup");
  if (c?.allowPrivilegeEscalation !== false) problems.push("allowPrivilegeEscalation: false");
  if (!(c?.capabilities?.drop ?? []).includes("ALL")) problems.push("capabilities.drop: [ALL]");
  const seccomp = either<{ type?: string }>("seccompProfile")?.type;
  if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") problems.push("seccompProfile.type: RuntimeDefault");
  if (c?.readOnlyRootFilesystem !== true) problems.push("readOnlyRootFilesystem: true");
  if (c?.privileged === true) problems.push("no privileged: true");
  return problems;
}

/** Deployments, StatefulSets, DaemonSets, Jobs, CronJobs and Pods: every container and init container restricted. */
export const k8sRestrictedPods: StackValidationPolicy = {
  name: "cloudloom-k8s-restricted-pods",
  description:
    "Every container, init containers included, meets the Pod Security Standards' restricted profile and has a read-only root filesystem.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    for (const r of resources) {
      const pod = podSpecOf(r);
      if (!pod) continue;
      const kind = r.type.split(":")[2];
      for (const [field, list] of [
        ["initContainers", pod.initContainers],
        ["containers", pod.containers],
      ] as const) {
        for (const container of (list ?? []) as Array<Record<string, any>>) {
          const problems = restrictedProblems(container, pod.securityContext);
          if (problems.length)
            report(
              `${kind} ${r.name}: ${field} ${container.name ?? "?"} is not restricted; set securityContext ${problems.join(", ")}`,
              r.urn,
            );
        }
      }
    }
  },
};

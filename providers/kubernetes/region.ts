/**
 * The app's place in the cluster: its namespace, the ConfigMap every pod
 * reads the spec from, the Secret holding function secrets, and per region
 * the node affinity and tolerations that pin workloads there.
 */
import * as core from "@pulumi/kubernetes/core/v1";
import type * as input from "@pulumi/kubernetes/types/input";
import type { RegionSpec } from "../../sdk/spec";
import { fillInAnnotation } from "../shared/fill-in";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import type { KubernetesContext } from "./context";
import { placeTracingSecret } from "./tracing";

type PodSpec = input.core.v1.PodSpec;

/** The admission controller refuses (enforce), logs (audit) and warns of (warn) any pod short of the restricted profile. */
export const POD_SECURITY_LABELS = {
  "pod-security.kubernetes.io/enforce": "restricted",
  "pod-security.kubernetes.io/audit": "restricted",
  "pod-security.kubernetes.io/warn": "restricted",
};

/** Name of the ConfigMap every workload reads the spec from. */
const specConfigName = (app: string) => resourceName(app, "spec");

/** Name of the Secret holding function secrets. */
export const secretsName = (app: string) => resourceName(app, "secrets");

/** Where workloads mount the spec. */
export const SPEC_DIR = "/etc/cloudloom";

/** The pod volume of the spec ConfigMap. */
export const specVolume = (app: string): input.core.v1.Volume => ({ name: "spec", configMap: { name: specConfigName(app) } });

/** Where a container mounts the spec volume. */
export const specMount: input.core.v1.VolumeMount = { name: "spec", mountPath: SPEC_DIR, readOnly: true };

/** Node affinity and tolerations that pin a workload to one region. */
export function regionScheduling(region: RegionSpec): Pick<PodSpec, "affinity" | "tolerations"> {
  const labels = region.placement.kubernetes?.labels ?? {};
  const expressions = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => ({ key, operator: "In", values: [value] }));
  const tolerations: input.core.v1.Toleration[] = (region.placement.kubernetes?.tolerations ?? []).map((key) => ({
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

/** The regions step: the namespace, the spec ConfigMap, the secrets, and each region's scheduling. */
export function placeRegions(context: KubernetesContext): void {
  const { spec, args, child } = context;
  const namespace = new core.Namespace(
    resourceName(context.name, "ns"),
    { metadata: { name: args.namespace, labels: { ...entryLabels(spec.app, "app", spec.app), ...POD_SECURITY_LABELS } } },
    child,
  );
  context.namespace = namespace.metadata.name;
  new core.ConfigMap(
    specConfigName(context.name),
    {
      metadata: { name: specConfigName(spec.app), namespace: context.namespace, labels: entryLabels(spec.app, "app", spec.app) },
      data: { "spec.json": JSON.stringify(spec, null, 2) },
    },
    child,
  );
  for (const [name, region] of Object.entries(spec.regions)) context.regions.set(name, regionScheduling(region));
  placeTracingSecret(context);
  if (args.secrets) {
    new core.Secret(
      secretsName(context.name),
      {
        metadata: {
          name: secretsName(spec.app),
          namespace: context.namespace,
          labels: entryLabels(spec.app, "app", spec.app),
          annotations: fillInAnnotation(Object.fromEntries(Object.keys(args.secrets).map((key) => [key, `cloudloom:secrets.${key}`]))),
        },
        type: "Opaque",
        // Names in the clear, each value a Pulumi secret (encrypted in the state, never in a pod spec).
        stringData: args.secrets,
      },
      child,
    );
  }
}

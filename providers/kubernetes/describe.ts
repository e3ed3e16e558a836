/**
 * What the CLI shows of a Kubernetes plan, the placeholder it plans with, the
 * manifests `plan --out` writes (and what to fill in them), and every model
 * artifact the cluster will fetch.
 */
import { ACCELERATORS, type Accelerator, type SpecV1 } from "../../sdk/spec";
import type { PlannedResource } from "../plan";
import {
  noteEach,
  regionCount,
  type ArtifactFetch,
  type EntryNotes,
  type Landing,
  type PlannedAlert,
  type TargetDescription,
} from "../provider";
import type { PrometheusAlertRule } from "./alerts";
import { autoscalerKind } from "./autoscaling";
import { fillInHeader, fillIns, toManifests, toYaml, type FillIn } from "./render";

/** Key inputs of the Kubernetes resources, which the AWS (EKS) and Alibaba Cloud (ACK) plans contain too. */
export const KUBERNETES_KEY_INPUTS: TargetDescription["keyInputs"] = {
  "kubernetes:apps/v1:Deployment": [
    ["replicas", "spec.replicas"],
    ["image", "spec.template.spec.containers.0.image"],
    ["gpu", "spec.template.spec.containers.0.resources.limits.nvidia\\.com/gpu"],
    ["memory", "spec.template.spec.containers.0.resources.limits.memory"],
  ],
  "kubernetes:apps/v1:StatefulSet": [
    ["image", "spec.template.spec.containers.0.image"],
    ["storage", "spec.volumeClaimTemplates.0.spec.resources.requests.storage"],
  ],
  "kubernetes:core/v1:Service": [
    ["type", "spec.type"],
    ["port", "spec.ports.0.port"],
  ],
  "kubernetes:networking.k8s.io/v1:Ingress": [["host", "spec.rules.0.host"]],
  "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": [
    ["min", "spec.minReplicas"],
    ["max", "spec.maxReplicas"],
  ],
  "kubernetes:keda.sh/v1alpha1:ScaledObject": [
    ["min", "spec.minReplicaCount"],
    ["max", "spec.maxReplicaCount"],
    ["triggers", "spec.triggers"],
  ],
  "kubernetes:core/v1:Namespace": [["name", "metadata.name"]],
  "kubernetes:policy/v1:PodDisruptionBudget": [["maxUnavailable", "spec.maxUnavailable"]],
};

/** Every model artifact the cluster's `fetch-artifact` init containers download, with its sha256, sorted by URL. */
export function artifactFetches(resources: readonly PlannedResource[]): ArtifactFetch[] {
  const byKey = new Map<string, ArtifactFetch>();
  for (const manifest of toManifests(resources)) {
    if (manifest.kind !== "Deployment") continue;
    const pod = (manifest.spec as { template?: { spec?: { initContainers?: Array<{ env?: Array<{ name: string; value?: unknown }> }> } } })
      ?.template?.spec;
    for (const init of pod?.initContainers ?? []) {
      const env = Object.fromEntries((init.env ?? []).map((e) => [e.name, e.value]));
      if (typeof env.ARTIFACT_URL !== "string") continue;
      const sha256 = String(env.ARTIFACT_SHA256 ?? "");
      const key = `${env.ARTIFACT_URL} ${sha256}`;
      const entry = byKey.get(key) ?? { url: env.ARTIFACT_URL, sha256, workloads: [] };
      entry.workloads.push(manifest.metadata.name);
      byKey.set(key, entry);
    }
  }
  return [...byKey.values()].sort((a, b) => a.url.localeCompare(b.url) || a.sha256.localeCompare(b.sha256));
}

/** Every rule of every PrometheusRule, as the alerts the plan lists. */
export function prometheusRuleAlerts(resources: readonly PlannedResource[]): PlannedAlert[] {
  return resources
    .filter((r) => r.type === "kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    .flatMap((r) => (r.inputs as { spec: { groups: Array<{ rules: PrometheusAlertRule[] }> } }).spec.groups.flatMap((g) => g.rules))
    .map((rule) => ({
      name: rule.alert,
      severity: rule.labels.severity,
      objective: rule.labels.cloudloom_objective,
      condition: rule.expr,
    }));
}

/** What `plan --out` leaves to fill in: each Secret key (and any secret value found elsewhere) and the setting it comes from. */
export function manifestFillIns(resources: readonly PlannedResource[]): FillIn[] {
  return fillIns(toManifests(resources));
}

/** The Kubernetes target's description, with its two hooks for `plan`: `fillIns` (after `--out`) and `artifacts`. */
export const kubernetesDescription: TargetDescription = {
  keyInputs: KUBERNETES_KEY_INPUTS,
  landings: kubernetesLandings,
  // redisPassword, demandToken, metricsToken: a real stack generates each on its first `up`; a plan uses fixed ones, so plans compare equal.
  placeholders: () => ({
    artifactBaseUrl: "https://artifacts.example.invalid",
    redisPassword: "offline-placeholder-redis-password",
    demandToken: "offline-placeholder-demand-token",
    metricsToken: "offline-placeholder-metrics-token",
  }),
  manifests: (resources) => {
    const manifests = toManifests(resources);
    return fillInHeader(fillIns(manifests)) + toYaml(manifests);
  },
  fillIns: manifestFillIns,
  artifacts: artifactFetches,
  alerts: prometheusRuleAlerts,
  becomes: kubernetesEntries,
};

/** Where each function and model of each region lands on Kubernetes: a Deployment pinned by the region's node labels. */
export function kubernetesLandings(spec: SpecV1): Landing[] {
  return Object.entries(spec.regions).flatMap(([region, declared]) => {
    const placement = declared.placement.kubernetes;
    if (!placement) return [];
    const labels = Object.entries(placement.labels)
      .map(([key, value]) => `${key}=${value}`)
      .join(", ");
    const where = (what: string) =>
      `${what} Deployment on nodes labelled ${labels || "(any)"}${placement.tolerations?.length ? `, tolerating ${placement.tolerations.join(", ")}` : ""}`;
    return [
      ...Object.entries(spec.functions)
        .filter(([, fn]) => fn.regions.includes(region))
        .map(([name]) => ({ region, entry: `function ${name}`, where: where("runtime") })),
      ...Object.entries(spec.models)
        .filter(([, model]) => model.regions.includes(region))
        .map(([key, model]) => ({ region, entry: `model ${key}`, where: where(model.pool ? "GPU model server" : "model server") })),
    ];
  });
}

/** What each entry becomes on Kubernetes (the mapping table of providers/kubernetes/README.md, per entry). */
function kubernetesEntries(spec: SpecV1): EntryNotes {
  const gpus = (pool: string | undefined) => (pool ? `, nvidia.com/gpu: ${spec.gpuPools[pool].gpusPerInstance}` : "");
  return {
    functions: noteEach(spec.functions, (fn) => `Deployment + Service ${regionCount(fn.regions)}`),
    models: noteEach(spec.models, (model) => `Deployment + Service ${regionCount(model.regions)}${gpus(model.pool)}`),
    gpuPools: noteEach(spec.gpuPools, (pool) => {
      const label = (ACCELERATORS[pool.accelerator as Accelerator] as { kubernetes?: { label: string } }).kubernetes?.label;
      return `nodes labelled ${label}, toleration nvidia.com/gpu`;
    }),
    scalingPolicies: noteEach(spec.scalingPolicies, (policy) =>
      autoscalerKind(policy) === "keda"
        ? `KEDA ScaledObject${policy.schedules.length ? ` + ${policy.schedules.length} cron trigger(s)` : ""}`
        : "HorizontalPodAutoscaler (autoscaling/v2)",
    ),
    regions: noteEach(spec.regions, ({ placement: { kubernetes } }) =>
      kubernetes
        ? `node affinity ${Object.entries(kubernetes.labels)
            .map(([key, value]) => `${key}=${value}`)
            .join(", ")}`
        : "not placed on Kubernetes",
    ),
  };
}

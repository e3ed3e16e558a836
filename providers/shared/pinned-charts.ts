/**
 * The Helm charts cloudloom installs on clusters it creates, pinned: an
 * upgrade is a reviewed change, never a surprise at `pulumi up`.
 */
import * as pulumi from "@pulumi/pulumi";
import { Release } from "@pulumi/kubernetes/helm/v3";

/** Chart, version and repository of each add-on. */
export const ADDON_CHARTS = {
  nvidiaDevicePlugin: { chart: "nvidia-device-plugin", version: "0.17.0", repo: "https://nvidia.github.io/k8s-device-plugin" },
  keda: { chart: "keda", version: "2.16.1", repo: "https://kedacore.github.io/charts" },
  prometheus: { chart: "prometheus", version: "25.30.1", repo: "https://prometheus-community.github.io/helm-charts" },
  clusterAutoscaler: { chart: "cluster-autoscaler", version: "9.43.2", repo: "https://kubernetes.github.io/autoscaler" },
} as const;

/** Installs one pinned add-on as release `<prefix>-<chart>` in `namespace`. */
export function pinnedRelease(
  prefix: string,
  key: keyof typeof ADDON_CHARTS,
  namespace: string,
  values: Record<string, pulumi.Input<unknown>>,
  opts: pulumi.CustomResourceOptions,
): Release {
  const { chart, version, repo } = ADDON_CHARTS[key];
  return new Release(
    `${prefix}-${chart}`,
    { name: chart, chart, version, repositoryOpts: { repo }, namespace, createNamespace: true, values },
    opts,
  );
}

/**
 * What the model workloads' autoscalers need: KEDA, and a Prometheus named
 * "prometheus" in "monitoring" (they query http://prometheus-server.monitoring.svc).
 */
export function workloadAutoscalers(prefix: string, opts: pulumi.CustomResourceOptions): Release[] {
  return [
    pinnedRelease(prefix, "keda", "keda", {}, opts),
    pinnedRelease(
      prefix,
      "prometheus",
      "monitoring",
      { alertmanager: { enabled: false }, "prometheus-pushgateway": { enabled: false } },
      opts,
    ),
  ];
}

/**
 * Renders planned Kubernetes resources as manifests a user could
 * `kubectl apply`, in dependency order. Pulumi's renderYamlToDirectory needs
 * the provider plugin; this works from the inputs the offline plan captured.
 */
import yaml from "js-yaml";
import type { PlannedResource } from "../plan";

const KIND_ORDER = [
  "Namespace",
  "Secret",
  "ConfigMap",
  "Service",
  "Deployment",
  "PodDisruptionBudget",
  "HorizontalPodAutoscaler",
  "ScaledObject",
];

/** A Kubernetes manifest. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

function apiVersionOf(type: string): { apiVersion: string; kind: string } {
  const [, groupVersion, kind] = type.split(":");
  return { apiVersion: groupVersion.startsWith("core/") ? groupVersion.slice("core/".length) : groupVersion, kind };
}

/** Secret values never land in files: they are set at deploy time. */
function redact(manifest: Manifest): Manifest {
  if (manifest.kind !== "Secret" || !manifest.stringData) return manifest;
  const keys = Object.keys(manifest.stringData as object);
  return { ...manifest, stringData: Object.fromEntries(keys.map((key) => [key, ""])) };
}

/** Manifests of every Kubernetes resource in `resources`, ordered by kind then name. */
export function toManifests(resources: readonly PlannedResource[]): Manifest[] {
  return resources
    .filter((r) => r.custom && r.type.startsWith("kubernetes:"))
    .map((r) => redact({ ...apiVersionOf(r.type), ...(r.inputs as object) } as Manifest))
    .sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.metadata.name.localeCompare(b.metadata.name));
}

/** Multi-document YAML of `manifests`. */
export function toYaml(manifests: readonly Manifest[]): string {
  return manifests.map((m) => yaml.dump(m, { sortKeys: true, lineWidth: 160, noRefs: true })).join("---\n");
}

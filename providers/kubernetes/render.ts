/**
 * Renders planned Kubernetes resources as manifests a user could
 * `kubectl apply`, in dependency order. Pulumi's renderYamlToDirectory needs
 * the provider plugin; this works from the inputs the offline plan captured.
 *
 * Secret values never land in files: each Secret key gets a marked
 * placeholder naming the stack setting its value comes from
 * (`<fill in: cloudloom:apiKeys ...>`), and `fillIns` lists them.
 */
import type { FillIn } from "../provider";
import yaml from "js-yaml";
import type { PlannedResource } from "../plan";
import { FILL_IN, fillInPlaceholder } from "../shared/fill-in";

const KIND_ORDER = [
  "Namespace",
  "NetworkPolicy",
  "Secret",
  "ConfigMap",
  "Service",
  "Ingress",
  "StatefulSet",
  "Deployment",
  "PodDisruptionBudget",
  "HorizontalPodAutoscaler",
  // Before the ScaledObjects whose triggers refer to it.
  "TriggerAuthentication",
  "ScaledObject",
  "ServiceMonitor",
  "PrometheusRule",
];

/** A Kubernetes manifest. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** The key Pulumi marks a secret value with (in inputs captured under mocks: `{ <SIG>: <SECRET>, value }`). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_MARK = "1b47061264138c4ac30d75fd1eb44270";

const isSecretWrapper = (value: unknown): value is { value: unknown } =>
  typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG] === SECRET_MARK;

/** The placeholder of a secret value found outside a Secret's data (a value that must not be written). */
export const SECRET_ELSEWHERE = fillInPlaceholder("a secret value (keep it in a Secret and reference it)");

/**
 * Unwraps Pulumi's secret wrappers: a wrapper around an object or array
 * becomes that value (its keys are names, not secrets), one around a scalar
 * becomes `secretScalar`'s placeholder, so no secret scalar is ever written.
 */
function unwrap(value: unknown, secretScalar: (path: string) => unknown, path = ""): unknown {
  if (isSecretWrapper(value)) {
    const inner = value.value;
    if (inner !== null && typeof inner === "object") return unwrap(inner, secretScalar, path);
    return secretScalar(path);
  }
  if (Array.isArray(value)) return value.map((item, i) => unwrap(item, secretScalar, `${path}.${i}`));
  if (value !== null && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, item]) => [
        key,
        unwrap(item, secretScalar, path ? `${path}.${key}` : key),
      ]),
    );
  return value;
}

/** Where each key of a Secret gets its value, from its fill-in annotation. */
function sourcesOf(manifest: Manifest): Record<string, string> {
  try {
    return JSON.parse(manifest.metadata.annotations?.[FILL_IN] ?? "{}") as Record<string, string>;
  } catch {
    return {};
  }
}

/** A Secret's values become marked placeholders naming the setting each comes from; `data` is folded into `stringData`. */
function templated(manifest: Manifest): Manifest {
  if (manifest.kind !== "Secret") return manifest;
  const sources = sourcesOf(manifest);
  const keys = [...Object.keys((manifest.stringData as object) ?? {}), ...Object.keys((manifest.data as object) ?? {})];
  if (keys.length === 0) return manifest;
  const rest: Manifest = { ...manifest };
  delete rest.data;
  return {
    ...rest,
    stringData: Object.fromEntries(keys.map((key) => [key, fillInPlaceholder(sources[key] ?? `the value of ${key}`)])),
  } as Manifest;
}

function apiVersionOf(type: string): { apiVersion: string; kind: string } {
  const [, groupVersion, kind] = type.split(":");
  return { apiVersion: groupVersion.startsWith("core/") ? groupVersion.slice("core/".length) : groupVersion, kind };
}

/** Manifests of every Kubernetes resource in `resources`, ordered by kind then name. */
export function toManifests(resources: readonly PlannedResource[]): Manifest[] {
  return resources
    .filter((r) => r.custom && r.type.startsWith("kubernetes:"))
    .map((r) => {
      const inputs = unwrap(r.inputs, () => SECRET_ELSEWHERE) as object;
      return templated({ ...apiVersionOf(r.type), ...inputs } as Manifest);
    })
    .sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.metadata.name.localeCompare(b.metadata.name));
}

const PLACEHOLDER = /^<fill in: (.*)>$/;

/** Every placeholder in `manifests`: what to fill in, and where, before `kubectl apply`. */
export function fillIns(manifests: readonly Manifest[]): FillIn[] {
  const found: FillIn[] = [];
  const visit = (manifest: Manifest, value: unknown, path: string): void => {
    if (typeof value === "string") {
      const match = PLACEHOLDER.exec(value);
      if (match) {
        const key = manifest.kind === "Secret" && path.startsWith("stringData.") ? path.slice("stringData.".length) : path;
        found.push({ kind: manifest.kind, namespace: manifest.metadata.namespace, name: manifest.metadata.name, key, source: match[1] });
      }
    } else if (Array.isArray(value)) value.forEach((item, i) => visit(manifest, item, `${path}.${i}`));
    else if (value !== null && typeof value === "object")
      for (const [key, item] of Object.entries(value)) visit(manifest, item, path ? `${path}.${key}` : key);
  };
  for (const manifest of manifests) visit(manifest, manifest, "");
  return found;
}

/** Multi-document YAML of `manifests`. */
export function toYaml(manifests: readonly Manifest[]): string {
  return manifests.map((m) => yaml.dump(m, { sortKeys: true, lineWidth: 160, noRefs: true })).join("---\n");
}

/** The comment a rendered file starts with: each value to fill in before `kubectl apply -f`. */
export function fillInHeader(items: readonly FillIn[]): string {
  if (items.length === 0) return "";
  const lines = items.map(
    (item) => `#   ${item.kind} ${item.namespace ? `${item.namespace}/` : ""}${item.name} ${item.key}: ${item.source}`,
  );
  return `# Before kubectl apply -f: replace each "<fill in: ...>" value (secrets the plan never writes):\n${lines.join("\n")}\n`;
}

export type { FillIn };

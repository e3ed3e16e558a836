/**
 * The one place that knows every target: maps a target name to the
 * component that materializes an app there.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import type { EndpointsMap, SpecV1, Target } from "../sdk/spec";
import { KubernetesApp } from "./kubernetes/app";

/** Stack settings a target reads, as strings from Pulumi config. */
export interface TargetSettings {
  /** Reads a plain setting. */
  get(key: string): string | undefined;
  /** Reads a secret setting. */
  getSecret(key: string): pulumi.Output<string> | undefined;
}

/** Builds an app on one target and returns its endpoints; `opts` reach the app's component. */
export type TargetFactory = (spec: SpecV1, settings: TargetSettings, opts?: pulumi.ComponentResourceOptions) => pulumi.Output<EndpointsMap>;

/** Thrown for a target with no provider in this version, or a setting a target needs. */
export class TargetConfigError extends Error {
  readonly code = "CL_TARGET_CONFIG";
  constructor(message: string) {
    super(message);
    this.name = "TargetConfigError";
  }
}

function required(settings: TargetSettings, key: string, example: string): string {
  const value = settings.get(key);
  if (!value)
    throw new TargetConfigError(`stack config cloudloom:${key} is required; set it with: pulumi config set cloudloom:${key} ${example}`);
  return value;
}

const LABEL_PRESETS = ["gke", "eks", "ack"] as const;

function acceleratorLabelsSetting(value: string | undefined): (typeof LABEL_PRESETS)[number] | undefined {
  if (value === undefined || (LABEL_PRESETS as readonly string[]).includes(value))
    return value as (typeof LABEL_PRESETS)[number] | undefined;
  throw new TargetConfigError(
    `stack config cloudloom:acceleratorLabels is "${value}"; use one of ${LABEL_PRESETS.join(", ")} (pulumi config set cloudloom:acceleratorLabels gke)`,
  );
}

/** The targets this version can deploy to. */
export const TARGET_FACTORIES: Partial<Record<Target, TargetFactory>> = {
  kubernetes(spec, settings, opts = {}) {
    const kubeconfig = settings.getSecret("kubeconfig");
    const context = settings.get("kubeContext");
    const provider = kubeconfig || context ? new KubernetesProvider(`${spec.app}-k8s`, { kubeconfig, context }) : undefined;
    const apiKeys = settings.getSecret("apiKeys");
    return new KubernetesApp(
      spec.app,
      {
        spec,
        artifactBaseUrl: required(settings, "artifactBaseUrl", "https://models.example.com"),
        namespace: settings.get("namespace"),
        runtimeImage: settings.get("runtimeImage"),
        acceleratorLabels: acceleratorLabelsSetting(settings.get("acceleratorLabels")),
        apiKeys: apiKeys?.apply((keys) =>
          keys
            .split(",")
            .map((k) => k.trim())
            .filter(Boolean),
        ),
      },
      { ...opts, provider },
    ).endpoints;
  },
};

/** The factory of `target`, or a config error naming the available targets. */
export function factoryFor(target: string | undefined): TargetFactory {
  const factory = target ? TARGET_FACTORIES[target as Target] : undefined;
  if (!factory) {
    throw new TargetConfigError(
      `stack config cloudloom:target is "${target ?? ""}"; available targets: ${Object.keys(TARGET_FACTORIES).join(", ")} (pulumi config set cloudloom:target kubernetes)`,
    );
  }
  return factory;
}

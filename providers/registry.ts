/**
 * The one place that knows every target: maps a target name to the
 * component that materializes an app there, and to its description (what
 * tools such as the CLI show of its plans).
 */
import type * as pulumi from "@pulumi/pulumi";
import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import type { SpecV1, Target } from "../sdk/spec";
import { parseAckSettings } from "./alicloud/ack-settings";
import { parseEnsSettings } from "./alicloud/ens-settings";
import { parseGatewayNetwork } from "./alicloud/gateway-settings";
import { AlicloudApp } from "./alicloud/app";
import { alicloudDescription } from "./alicloud/describe";
import { AwsApp } from "./aws/app";
import { awsDescription } from "./aws/describe";
import { parseGatewaySettings } from "./aws/gateway-settings";
import { parseNetworks } from "./aws/networks";
import { KubernetesApp } from "./kubernetes/app";
import { kubernetesDescription } from "./kubernetes/describe";
import { kubernetesStackSettings } from "./kubernetes/settings";
import type { AppOutputs, TargetDescription } from "./provider";
import { parseAlertEmails } from "./shared/alerts";
import { TargetConfigError } from "./shared/config-error";
import { secretValues } from "./shared/object-setting";
import { readTracingSettings } from "./shared/tracing";
import type { SecretSettings } from "./shared/function-env";

/** Stack settings a target reads, as strings from Pulumi config. */
export interface TargetSettings {
  /** Reads a plain setting. */
  get(key: string): string | undefined;
  /** Reads a secret setting. */
  getSecret(key: string): pulumi.Output<string> | undefined;
  /** The keys of an object-valued secret setting (names are not secret; values stay encrypted). */
  secretKeys(key: string): string[] | undefined;
}

/** The app a target builds: its spec, and the directory its handlers and artifacts are relative to. */
export interface TargetApp {
  spec: SpecV1;
  root: string;
}

/** Builds an app on one target and returns its outputs; `opts` reach the app's component. */
export type TargetFactory = (app: TargetApp, settings: TargetSettings, opts?: pulumi.ComponentResourceOptions) => AppOutputs;

/** The outputs of an app's component: what the stack exports. */
function appOutputs(app: AppOutputs): AppOutputs {
  return { endpoints: app.endpoints, gatewayUrl: app.gatewayUrl };
}

export { TargetConfigError };
export { secretValues };
export type { AppOutputs };

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
  kubernetes({ spec }, settings, opts = {}) {
    const kubeconfig = settings.getSecret("kubeconfig");
    const context = settings.get("kubeContext");
    const provider = kubeconfig || context ? new KubernetesProvider(`${spec.app}-k8s`, { kubeconfig, context }) : undefined;
    return appOutputs(
      new KubernetesApp(
        spec.app,
        {
          spec,
          artifactBaseUrl: required(settings, "artifactBaseUrl", "https://models.example.com"),
          namespace: settings.get("namespace"),
          runtimeImage: settings.get("runtimeImage"),
          acceleratorLabels: acceleratorLabelsSetting(settings.get("acceleratorLabels")),
          ...kubernetesStackSettings(settings),
        },
        { ...opts, provider },
      ),
    );
  },
  aws({ spec, root }, settings, opts = {}) {
    return appOutputs(
      new AwsApp(
        spec.app,
        {
          spec,
          root,
          networks: parseNetworks(settings.get("networks"), spec),
          sagemakerImage: settings.get("sagemakerImage"),
          runtimeImage: settings.get("runtimeImage"),
          functionImage: settings.get("functionImage"),
          secrets: secretSettings(settings),
          logRetentionDays: settings.get("logRetentionDays") === undefined ? undefined : Number(settings.get("logRetentionDays")),
          gateway: parseGatewaySettings(settings),
          alertEmails: parseAlertEmails(settings.get("alertEmails")),
          tracing: readTracingSettings(settings),
          demandToken: settings.getSecret("demandToken"),
        },
        opts,
      ),
    );
  },
  alicloud({ spec, root }, settings, opts = {}) {
    return appOutputs(
      new AlicloudApp(
        spec.app,
        {
          spec,
          root,
          runtimeImage: settings.get("runtimeImage"),
          jwtPrivateKey: settings.getSecret("jwtPrivateKey"),
          ack: parseAckSettings(settings.get("ack"), spec),
          ens: parseEnsSettings(settings.get("ens"), spec),
          functionImage: settings.get("functionImage"),
          secrets: secretSettings(settings),
          gatewayNetwork: parseGatewayNetwork(settings.get("gatewayNetwork"), spec),
          redisPassword: settings.getSecret("redisPassword"),
          apiKeys: apiKeysSetting(settings),
          metricsToken: settings.getSecret("metricsToken"),
          dnsDomain: settings.get("dnsDomain"),
          dnsRecord: settings.get("dnsRecord"),
          dnsCertificateId: settings.get("dnsCertificateId"),
          alertEmails: parseAlertEmails(settings.get("alertEmails")),
          tracing: readTracingSettings(settings),
          demandToken: settings.getSecret("demandToken"),
        },
        opts,
      ),
    );
  },
};

/** What each target tells tools about its plans; a target that can be planned has one. */
const TARGET_DESCRIPTIONS: Partial<Record<Target, TargetDescription>> = {
  kubernetes: kubernetesDescription,
  aws: awsDescription,
  alicloud: alicloudDescription,
};

/** The description of `target`; one with no entry shows no key inputs and has no placeholders. */
export function describeTarget(target: Target): TargetDescription {
  return TARGET_DESCRIPTIONS[target] ?? { keyInputs: {}, placeholders: () => ({}) };
}

/** The API keys the gateway accepts, from the secret `cloudloom:apiKeys` (comma-separated). */
function apiKeysSetting(settings: TargetSettings): pulumi.Output<string[]> | undefined {
  return settings.getSecret("apiKeys")?.apply((keys) =>
    keys
      .split(",")
      .map((key) => key.trim())
      .filter(Boolean),
  );
}

/** Secret names and values from `cloudloom:secrets`, when the stack sets it. */
function secretSettings(settings: TargetSettings): SecretSettings | undefined {
  const secrets = settings.getSecret("secrets");
  const names = settings.secretKeys("secrets");
  return secrets && names ? { names, values: secrets.apply((json) => secretValues(json)) } : undefined;
}

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

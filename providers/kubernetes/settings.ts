/**
 * The Kubernetes target's stack settings (`cloudloom:*`), read into
 * `KubernetesAppArgs`. The registry's kubernetes factory spreads the result
 * into the app's arguments, so every setting the README lists is read here.
 */
import { secretValues } from "../shared/object-setting";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { TargetConfigError } from "../shared/config-error";
import { readTracingSettings } from "../shared/tracing";
import type { SecretSettings } from "../shared/function-env";
import type { KubernetesAppArgs, StackSettingArgs } from "./app";
import { GATEWAY_EXPOSURES, type GatewayExposure } from "./gateway";

/** How the settings are read (the registry's `TargetSettings`). */
export interface KubernetesSettingsSource {
  get(key: string): string | undefined;
  getSecret(key: string): pulumi.Output<string> | undefined;
  secretKeys(key: string): string[] | undefined;
}

/** A comma-separated list, trimmed, without empty entries. */
const list = (value: string): string[] =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

/** `cloudloom:monitoring`: `true` (the default) or `false`. */
function monitoringSetting(value: string | undefined): boolean | undefined {
  if (value === undefined || value === "true" || value === "false") return value === undefined ? undefined : value === "true";
  throw new TargetConfigError(
    `stack config cloudloom:monitoring is "${value}"; set it to true (PrometheusRule and ServiceMonitors, which need the Prometheus Operator) or false: pulumi config set cloudloom:monitoring false`,
  );
}

/** `cloudloom:monitoringLabels`: an object of label → value, e.g. {"release":"kube-prometheus-stack"}. */
function labelsSetting(json: string | undefined): Record<string, string> | undefined {
  if (json === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    value = undefined;
  }
  const parsed = z.record(z.string().min(1), z.string()).safeParse(value);
  if (!parsed.success)
    throw new TargetConfigError(
      "stack config cloudloom:monitoringLabels must be an object of label → value; set one with: pulumi config set --path 'cloudloom:monitoringLabels.release' kube-prometheus-stack",
    );
  return parsed.data;
}

/** The gateway, Redis, secret, monitoring and tracing settings of a Kubernetes stack. */
export function kubernetesStackSettings(settings: KubernetesSettingsSource): Pick<KubernetesAppArgs, StackSettingArgs> {
  const exposure = settings.get("gatewayExposure");
  if (exposure !== undefined && !(GATEWAY_EXPOSURES as readonly string[]).includes(exposure))
    throw new TargetConfigError(
      `stack config cloudloom:gatewayExposure is "${exposure}"; set it to ${GATEWAY_EXPOSURES.join(", ")}: pulumi config set cloudloom:gatewayExposure loadBalancer`,
    );
  const secretsJson = settings.getSecret("secrets");
  const secretNames = settings.secretKeys("secrets");
  const secrets: SecretSettings | undefined =
    secretsJson && secretNames ? { names: secretNames, values: pulumi.secret(secretsJson.apply(secretValues)) } : undefined;
  const proxies = settings.get("gatewayTrustedProxies");
  return {
    apiKeys: settings.getSecret("apiKeys")?.apply(list),
    secrets,
    redisUrl: settings.getSecret("redisUrl"),
    redisPassword: settings.getSecret("redisPassword"),
    demandToken: settings.getSecret("demandToken"),
    metricsToken: settings.getSecret("metricsToken"),
    redisStorage: settings.get("redisStorage"),
    redisStorageClass: settings.get("redisStorageClass"),
    gatewayExposure: exposure as GatewayExposure | undefined,
    gatewayHost: settings.get("gatewayHost"),
    gatewayTlsSecret: settings.get("gatewayTlsSecret"),
    gatewayIngressClass: settings.get("gatewayIngressClass"),
    gatewayTrustedProxies: proxies === undefined ? undefined : list(proxies),
    monitoring: monitoringSetting(settings.get("monitoring")),
    monitoringLabels: labelsSetting(settings.get("monitoringLabels")),
    tracing: readTracingSettings(settings),
  };
}

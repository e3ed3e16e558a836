/**
 * `KubernetesApp`: a whole cloudloom app on one Kubernetes cluster.
 *
 * @example
 * const app = new KubernetesApp("support-desk", {
 *   spec,                                   // app.toSpec({ target: "kubernetes" })
 *   artifactBaseUrl: "https://models.example.com",
 *   acceleratorLabels: "gke",
 * }, { provider });                          // an explicit k8s.Provider (EKS/ACK reuse this module)
 * export const endpoints = app.endpoints;
 */
import * as pulumi from "@pulumi/pulumi";
import type { Provider } from "@pulumi/kubernetes/provider";
import { SpecError, toCanonicalJson, validate, type EndpointsMap, type SpecV1 } from "../../sdk/spec";
import { runSteps } from "../provider";
import { TargetConfigError } from "../shared/config-error";
import { endCron } from "../shared/cron";
import { checkSecrets, type SecretSettings } from "../shared/function-env";
import { ACCELERATOR_LABEL_PRESETS, acceleratorSelector, type AcceleratorLabelScheme } from "./accelerator-labels";
import type { KubernetesContext } from "./context";
import { GATEWAY_EXPOSURES, type GatewayExposure } from "./gateway";
import { checkStackToken } from "../shared/stack-token";
import { checkRedisPassword } from "./redis";
import { kubernetesSteps } from "./steps";
import { checkTracing } from "./tracing";
import type { TracingSettings } from "../shared/tracing";

/** Inputs of a Kubernetes app. */
export interface KubernetesAppArgs {
  /** The app's Spec v1. It is validated for the kubernetes target before anything is created. */
  spec: SpecV1;
  /** Model artifacts are fetched from `<artifactBaseUrl>/<model>/<version>/model.onnx` and sha256-checked. */
  artifactBaseUrl?: string;
  /** Per model key, an `s3://` URI (or `oss://` with `ossAccess`) to fetch the artifact from instead, with the node role's credentials. */
  artifactUris?: Record<string, pulumi.Input<string>>;
  /** `artifactUris` are `oss://`: fetch them through this OSS endpoint with the nodes' ECS RAM role. */
  ossAccess?: { endpoint: string; roleName: pulumi.Input<string> };
  /** Node ports (by model key) exposing models to an authenticated front outside the cluster, which `frontedBy` names. */
  modelNodePorts?: { frontedBy: string; ports: Record<string, number> };
  /**
   * Expose models on VPC-internal load balancers instead, each pod serving
   * only calls with the gateway's RS256 JWT (issued by `issuer`, verified
   * against `jwks`, audience = the workload's name); `annotations` go on each
   * Service (the cloud's load-balancer settings).
   */
  modelJwt?: { jwks: pulumi.Input<object>; issuer: string; annotations: Record<string, string> };
  /** Deploy the gateway in the cluster. @default true */
  gateway?: boolean;
  /**
   * With `gateway: false`: the base URLs (`https://host`) of the app's gateways outside the cluster
   * that KEDA can reach, whose demand endpoint (DEMAND_PATH) wakes workloads holding requests from
   * zero, one metrics-api trigger each. @default none: a workload at zero then wakes only on its
   * other triggers (cron floors, its queue), since its pods' own in-flight gauge reads nothing at zero
   */
  externalGateways?: pulumi.Input<string>[];
  /** Namespace for the app. @default the app's name */
  namespace?: string;
  /** Image of the cloudloom runtime that serves one model. @default "ghcr.io/cloudloom/runtime:0.1.0" */
  runtimeImage?: string;
  /** Image holding the app's function handlers and the runtime. @default runtimeImage */
  functionImage?: string;
  /** Image of the gateway. @default runtimeImage */
  gatewayImage?: string;
  /** How GPU nodes are labelled: a preset or your own scheme. @default "gke" */
  acceleratorLabels?: "gke" | "eks" | "ack" | AcceleratorLabelScheme;
  /** Prometheus that KEDA queries for the concurrency signal. @default "http://prometheus-server.monitoring.svc" */
  prometheusUrl?: string;
  /**
   * Values of the secrets functions declare (stack config `cloudloom:secrets`),
   * stored as Pulumi secrets in the Secret `<app>-secrets`; without it, that
   * Secret must exist.
   */
  secrets?: Record<string, pulumi.Input<string>> | SecretSettings;
  /** API keys the gateway accepts (stored in a Secret). */
  apiKeys?: pulumi.Input<pulumi.Input<string>[]>;
  /** The user's Redis for the gateway (`cloudloom:redisUrl`, a secret); absent, the app deploys one. */
  redisUrl?: pulumi.Input<string>;
  /** Password of the Redis the app deploys (`cloudloom:redisPassword`); absent, one is generated once. */
  redisPassword?: pulumi.Input<string>;
  /**
   * Token function pods' reports of their calls to models carry, and the gateway takes them with
   * (`cloudloom:demandToken`, a secret, 16+ characters); absent, one is generated once.
   */
  demandToken?: pulumi.Input<string>;
  /**
   * Token the gateway's `/metrics` and `/metrics/demand` require as a Bearer token, which the app's
   * ServiceMonitor and KEDA triggers present (`cloudloom:metricsToken`, a secret, 16+ characters);
   * absent, one is generated once. With `gateway: false` and `externalGateways`, the token those
   * gateways take (required then).
   */
  metricsToken?: pulumi.Input<string>;
  /** Size of that Redis's volume. @default "1Gi" */
  redisStorage?: string;
  /** StorageClass of that Redis's volume. @default the cluster's default */
  redisStorageClass?: string;
  /** How clients reach the gateway. @default "loadBalancer" */
  gatewayExposure?: GatewayExposure;
  /** The host name of the gateway's Ingress (required with `gatewayExposure: "ingress"`). */
  gatewayHost?: string;
  /** A TLS Secret (in the app's namespace) for that host; the gateway's URL is then https. */
  gatewayTlsSecret?: string;
  /** The Ingress's class. @default the cluster's default */
  gatewayIngressClass?: string;
  /** Addresses or ranges of the proxies in front of the gateway (an ingress controller's pods). */
  gatewayTrustedProxies?: string[];
  /**
   * Turn objectives into a PrometheusRule and have Prometheus scrape the app's
   * pods (ServiceMonitors): the cluster needs the Prometheus Operator's CRDs.
   * @default true
   */
  monitoring?: boolean;
  /** Labels on the PrometheusRule and ServiceMonitors, for the operator's selectors. @example { release: "kube-prometheus-stack" } */
  monitoringLabels?: Record<string, string>;
  /** The gateway's locality settings: an edge cluster's gateway names its home region and its clients' prefixes. */
  gatewayLocality?: { home?: string; cidrs?: Array<{ cidr: string; locality: string }> };
  /**
   * Export spans from every function, model and gateway pod (stack config `cloudloom:tracing`,
   * with `collector` required here: the egress NetworkPolicy's peers). @default off
   */
  tracing?: TracingSettings;
}

/** The args a Kubernetes stack's settings give (`kubernetesStackSettings`): the gateway's, Redis's and the secrets. */
export type StackSettingArgs =
  | "secrets"
  | "apiKeys"
  | "redisUrl"
  | "redisPassword"
  | "demandToken"
  | "metricsToken"
  | "redisStorage"
  | "redisStorageClass"
  | "gatewayExposure"
  | "gatewayHost"
  | "gatewayTlsSecret"
  | "gatewayIngressClass"
  | "gatewayTrustedProxies"
  | "monitoring"
  | "monitoringLabels"
  | "tracing";

/** Args that stay optional once defaults are applied. */
type OptionalArgs =
  | Exclude<StackSettingArgs, "monitoring">
  | "artifactUris"
  | "ossAccess"
  | "modelNodePorts"
  | "modelJwt"
  | "gatewayLocality"
  | "externalGateways";

/** Defaults applied to `KubernetesAppArgs`. */
export type ResolvedKubernetesArgs = Required<Omit<KubernetesAppArgs, OptionalArgs | "acceleratorLabels" | "secrets">> &
  Pick<KubernetesAppArgs, Exclude<OptionalArgs, "secrets">> & {
    acceleratorLabels: AcceleratorLabelScheme;
    /** Secret values, each a Pulumi secret. */
    secrets?: Record<string, pulumi.Output<string>>;
  };

/** The default runtime image. */
const DEFAULT_RUNTIME_IMAGE = "ghcr.io/cloudloom/runtime:0.1.0";

function resolveArgs(args: KubernetesAppArgs): ResolvedKubernetesArgs {
  const runtimeImage = args.runtimeImage ?? DEFAULT_RUNTIME_IMAGE;
  const labels = args.acceleratorLabels ?? "gke";
  return {
    ...args,
    artifactBaseUrl: args.artifactBaseUrl ?? "",
    gateway: args.gateway ?? true,
    namespace: args.namespace ?? args.spec.app,
    runtimeImage,
    functionImage: args.functionImage ?? runtimeImage,
    gatewayImage: args.gatewayImage ?? runtimeImage,
    acceleratorLabels: typeof labels === "string" ? ACCELERATOR_LABEL_PRESETS[labels] : labels,
    prometheusUrl: args.prometheusUrl ?? "http://prometheus-server.monitoring.svc",
    monitoring: args.monitoring ?? true,
    secrets: args.secrets && secretValues(args.secrets),
  };
}

/** Each secret's value as a Pulumi secret, under its name (which is not secret). */
function secretValues(secrets: Record<string, pulumi.Input<string>> | SecretSettings): Record<string, pulumi.Output<string>> {
  if (isSecretSettings(secrets)) {
    const values = pulumi.output(secrets.values);
    return Object.fromEntries(secrets.names.map((name) => [name, pulumi.secret(values.apply((all) => all[name]))]));
  }
  return Object.fromEntries(Object.entries(secrets).map(([name, value]) => [name, pulumi.secret(value)]));
}

function isSecretSettings(secrets: Record<string, pulumi.Input<string>> | SecretSettings): secrets is SecretSettings {
  return Array.isArray((secrets as SecretSettings).names) && "values" in secrets && Object.keys(secrets).length === 2;
}

/** The host name an Ingress rule takes (RFC 1123, lower case, optionally one leading wildcard label). */
const HOST_PATTERN = /^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Refuses gateway settings that cannot work. */
function checkGateway(args: KubernetesAppArgs): void {
  if (typeof args.metricsToken === "string") checkStackToken("metricsToken", args.metricsToken);
  if (args.gateway === false) {
    if (args.externalGateways?.length && args.metricsToken === undefined)
      throw new Error("KubernetesApp: [metricsToken] is required with [externalGateways]: the token their /metrics/demand takes");
    return;
  }
  const exposure = args.gatewayExposure ?? "loadBalancer";
  if (!GATEWAY_EXPOSURES.includes(exposure))
    throw new TargetConfigError(
      `stack config cloudloom:gatewayExposure is "${String(exposure)}"; use one of ${GATEWAY_EXPOSURES.join(", ")}`,
    );
  if (exposure === "ingress" && !args.gatewayHost)
    throw new TargetConfigError(
      "cloudloom:gatewayExposure ingress needs the host clients call; set it with: pulumi config set cloudloom:gatewayHost api.example.com",
    );
  if (args.gatewayHost !== undefined && !HOST_PATTERN.test(args.gatewayHost))
    throw new TargetConfigError(`stack config cloudloom:gatewayHost "${args.gatewayHost}" is not a host name such as api.example.com`);
  if (args.gatewayHost !== undefined && exposure !== "ingress")
    throw new TargetConfigError(
      `stack config cloudloom:gatewayHost is set but cloudloom:gatewayExposure is ${exposure}; set cloudloom:gatewayExposure ingress, or remove the host`,
    );
  if (typeof args.redisPassword === "string") checkRedisPassword(args.redisPassword);
  if (typeof args.demandToken === "string") checkStackToken("demandToken", args.demandToken);
}

/** Everything that can be refused is refused here, before any resource exists. */
function checkBeforeCreate(args: KubernetesAppArgs, resolved: ResolvedKubernetesArgs): void {
  for (const pool of Object.values(args.spec.gpuPools)) acceleratorSelector(resolved.acceleratorLabels, pool.accelerator as never);
  for (const policy of Object.values(args.spec.scalingPolicies)) policy.schedules.forEach(endCron);
  if (args.secrets && isSecretSettings(args.secrets)) checkSecrets(args.spec, args.secrets);
  checkGateway(args);
  checkTracing(args.tracing);
}

function validated(args: KubernetesAppArgs): ResolvedKubernetesArgs {
  const result = validate(args.spec, { target: "kubernetes" });
  if (!result.ok) throw new SpecError(String((args.spec as { app?: unknown })?.app), result.problems);
  const unsourced = Object.keys(args.spec.models).filter((key) => !args.artifactUris?.[key]);
  if (unsourced.length > 0 && !args.artifactBaseUrl)
    throw new Error(`KubernetesApp: [artifactBaseUrl] is required for ${unsourced.join(", ")}: the URL model artifacts are fetched from`);
  const resolved = resolveArgs(args);
  checkBeforeCreate(args, resolved);
  return resolved;
}

/** A cloudloom app on Kubernetes, typed `cloudloom:kubernetes:App`. */
export class KubernetesApp extends pulumi.ComponentResource {
  /** Every endpoint the gateway needs, per region. */
  readonly endpoints: pulumi.Output<EndpointsMap>;
  /**
   * Where clients call the app: `http://<load balancer address>`, `http(s)://<gatewayHost>`
   * of the Ingress, or the gateway's in-cluster URL (`clusterIP`); "" when the app has no
   * gateway here (EKS and ACK models).
   */
  readonly gatewayUrl: pulumi.Output<string>;

  constructor(name: string, args: KubernetesAppArgs, opts: pulumi.ComponentResourceOptions & { provider?: Provider } = {}) {
    const resolved = validated(args);
    // The spec is the component's input, so policies (in `pulumi preview --policy-pack` and
    // offline) can check the declaration itself, not only the resources made from it.
    super("cloudloom:kubernetes:App", name, { spec: toCanonicalJson(args.spec) }, opts);
    const context: KubernetesContext = {
      name,
      spec: args.spec,
      args: resolved,
      child: { parent: this, provider: opts.provider },
      endpoints: { functions: {}, models: {} },
      regions: new Map(),
      pools: new Map(),
    };
    runSteps(kubernetesSteps, context);
    this.endpoints = pulumi.output(context.endpoints) as pulumi.Output<EndpointsMap>;
    this.gatewayUrl = context.gatewayUrl ?? pulumi.output("");
    this.registerOutputs({ endpoints: this.endpoints, gatewayUrl: this.gatewayUrl });
  }
}

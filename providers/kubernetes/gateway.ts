/**
 * The in-cluster gateway: a workload running `cloudloom serve` on the spec,
 * the endpoints map and its settings (a ConfigMap of its own), listening on
 * every interface, accepting the API keys in its Secret, kept at two
 * replicas or more spread over nodes and zones, scaled on CPU, and drained one
 * pod at a time (a PodDisruptionBudget). Its shared store is the Redis the app
 * deploys (redis.ts) or the user's; clients reach it on a load balancer, an
 * Ingress or, inside the cluster only, its ClusterIP Service.
 */
import * as pulumi from "@pulumi/pulumi";
import * as core from "@pulumi/kubernetes/core/v1";
import * as networking from "@pulumi/kubernetes/networking/v1";
import type * as input from "@pulumi/kubernetes/types/input";
import { holdLimits, type ScalingPolicySpec, type SpecV1 } from "../../sdk/spec";
import { CONTAINER_PORT, demandQuery, gatewayServeArgs, RUNTIME_ENV } from "../../runtime/contract";
import { fillInAnnotation } from "../shared/fill-in";
import { entryLabels } from "../shared/labels";
import type { KubernetesContext } from "./context";
import { demandTokenEnv, demandTokenSecret } from "./demand-reports";
import type { GatewayDemand } from "./autoscaling";
import { metricsAuthentication, metricsTokenEnv, metricsTokenSecret } from "./metrics-token";
import { gatewayName, inClusterGatewayUrl } from "./gateway-service";
import { healthProbes } from "./pod";
import { appRedis, redisUrlEnv, type AppRedis } from "./redis";
import { restrictedContainer, RUNTIME_USER, withEphemeralStorage } from "./security";
import type { TracingSettings } from "../shared/tracing";
import { tracingEnv } from "./tracing";
import { KubernetesWorkload } from "./workload";

/** Two replicas survive a node's loss; CPU is what a proxy runs out of. */
const GATEWAY_SCALING: ScalingPolicySpec = { minInstances: 2, maxInstances: 10, targetUtilization: 70, schedules: [] };

/** Where the gateway mounts its ConfigMap. */
const CONFIG_DIR = "/etc/cloudloom";

/**
 * The variable the gateway reads its Redis URL from (the password inside it),
 * set from a Secret: the settings file holds nothing secret. Until the gateway
 * reads it (see the README), the gateway runs with per-instance limits and cache.
 */
export const REDIS_URL_ENV = RUNTIME_ENV.redisUrl;

/** How clients reach the gateway: stack config `cloudloom:gatewayExposure`. */
export type GatewayExposure = "loadBalancer" | "ingress" | "clusterIP" | "nodePort";

/** The exposures, for validating stack config. */
export const GATEWAY_EXPOSURES: readonly GatewayExposure[] = ["loadBalancer", "ingress", "clusterIP", "nodePort"];

/** The node port of the `nodePort` exposure: every node serves the gateway there (an edge node's carrier IP, where no load balancer exists). */
export const GATEWAY_NODE_PORT = 31080;

/** The gateway's Redis: the in-cluster one (its host and password Secret) or the user's URL (a secret). */
export type GatewayRedis = AppRedis;

/** Inputs of the in-cluster gateway. */
export interface KubernetesGatewayArgs {
  namespace: pulumi.Input<string>;
  labels: Record<string, string>;
  /** The spec the gateway routes by. */
  spec: SpecV1;
  /** The endpoints of every function and model, as the gateway reads them. */
  endpoints: pulumi.Input<object>;
  image: string;
  /** API keys the gateway accepts. */
  apiKeys?: pulumi.Input<pulumi.Input<string>[]>;
  prometheusUrl: string;
  /** The shared store for rate limits, auth-failure counts and the L2 cache. */
  redis?: GatewayRedis;
  /** @default "loadBalancer" */
  exposure?: GatewayExposure;
  /** The Ingress's host (required for `ingress`). */
  host?: string;
  /** A TLS Secret in the namespace for the Ingress's host: the URL is then https. */
  tlsSecret?: string;
  /** The Ingress's class. @default the cluster's default class */
  ingressClassName?: string;
  /** Addresses or ranges of proxies in front of the gateway (an ingress controller's pods), whose X-Forwarded-For it reads. */
  trustedProxies?: string[];
  /** Locality settings (gateway/config.ts): an edge gateway's home region and the client prefixes it maps. */
  locality?: { home?: string; cidrs?: Array<{ cidr: string; locality: string }> };
  /** Where the gateway exports its spans (OTEL_* variables, the headers from a Secret). */
  tracing?: TracingSettings;
  /** The Secret of the token function pods' reports of their calls to models carry (demand-reports.ts), when any pod reports. */
  demandTokenSecret?: pulumi.Input<string>;
  /** The Secret of the token its `/metrics` and DEMAND_PATH require (metrics-token.ts): never open in a cluster. */
  metricsTokenSecret: pulumi.Input<string>;
}

/** The gateway's settings file: nothing secret (the Redis URL arrives in REDIS_URL_ENV). */
function gatewaySettings(args: KubernetesGatewayArgs): object {
  return { trustedProxies: args.trustedProxies ?? [], ...(args.locality ? { locality: args.locality } : {}) };
}

/** The gateway's pod: its ConfigMap and Secret, created as the workload's children, mounted and referenced. */
function gatewayPodSpec(name: string, args: KubernetesGatewayArgs, child: pulumi.CustomResourceOptions): input.core.v1.PodSpec {
  const metadata = { name, namespace: args.namespace, labels: args.labels };
  const endpointsJson = pulumi.output(args.endpoints).apply((endpoints) => JSON.stringify(endpoints, null, 2));
  const config = new core.ConfigMap(
    name,
    {
      metadata,
      data: {
        "spec.json": JSON.stringify(args.spec, null, 2),
        "endpoints.json": endpointsJson,
        "settings.json": JSON.stringify(gatewaySettings(args), null, 2),
      },
    },
    child,
  );
  const userRedis = args.redis && "url" in args.redis ? args.redis.url : undefined;
  const keys = new core.Secret(
    `${name}-keys`,
    {
      metadata: {
        ...metadata,
        name: `${name}-keys`,
        annotations: fillInAnnotation({
          "api-keys": "cloudloom:apiKeys (one key per line, 16+ characters each)",
          ...(userRedis ? { "redis-url": "cloudloom:redisUrl (redis:// or rediss:// URL, with its password)" } : {}),
        }),
      },
      type: "Opaque",
      stringData: {
        "api-keys": pulumi.secret(pulumi.output(args.apiKeys ?? []).apply((k) => k.join("\n"))),
        ...(userRedis ? { "redis-url": pulumi.secret(userRedis) } : {}),
      },
    },
    child,
  );
  return {
    volumes: [{ name: "config", configMap: { name: config.metadata.name } }],
    containers: [
      restrictedContainer(
        {
          name: "gateway",
          image: args.image,
          args: gatewayServeArgs(CONFIG_DIR, { settings: true }),
          ports: [{ name: "http", containerPort: CONTAINER_PORT }],
          env: [
            { name: RUNTIME_ENV.apiKeys, valueFrom: { secretKeyRef: { name: keys.metadata.name, key: "api-keys" } } },
            ...(args.redis ? redisUrlEnv(args.redis, keys.metadata.name) : []),
            ...(args.demandTokenSecret ? [demandTokenEnv(args.demandTokenSecret)] : []),
            metricsTokenEnv(args.metricsTokenSecret),
          ],
          volumeMounts: [{ name: "config", mountPath: CONFIG_DIR, readOnly: true }],
          resources: withEphemeralStorage({ requests: { cpu: "500m", memory: "256Mi" }, limits: { memory: "512Mi" } }),
          ...healthProbes(),
        },
        RUNTIME_USER,
      ),
    ],
  };
}

/** The gateway in the cluster, typed `cloudloom:kubernetes:Gateway`. */
export class KubernetesGateway extends KubernetesWorkload {
  /** Where clients call the app: the load balancer's address, `http(s)://<host>` of the Ingress, or the in-cluster URL. */
  readonly gatewayUrl: pulumi.Output<string>;

  constructor(name: string, args: KubernetesGatewayArgs, opts: pulumi.ComponentResourceOptions & { provider?: pulumi.ProviderResource }) {
    const exposure = args.exposure ?? "loadBalancer";
    super(
      "Gateway",
      name,
      {
        namespace: args.namespace,
        labels: args.labels,
        podSpec: (child) => gatewayPodSpec(name, args, child),
        scaling: GATEWAY_SCALING,
        // Two replicas on different nodes and zones, and a drain takes one at a time.
        spread: true,
        prometheusUrl: args.prometheusUrl,
        env: tracingEnv(args.tracing, args.spec.app),
        // Its resources were the app's own children before the gateway was a component.
        formerParent: opts.parent,
        // The gateway authenticates clients itself; Local keeps their addresses (per-address limits).
        exposure:
          exposure === "loadBalancer"
            ? { type: "LoadBalancer", annotations: {}, authenticatedBy: "gateway" }
            : exposure === "nodePort"
              ? { type: "NodePort", port: GATEWAY_NODE_PORT, frontedBy: "gateway" }
              : undefined,
      },
      opts,
    );
    if (exposure === "ingress") {
      if (!args.host) throw new Error("KubernetesGateway: [host] is required for the ingress exposure");
      const child = { parent: this, provider: opts.provider };
      new networking.Ingress(
        name,
        {
          metadata: { name, namespace: args.namespace, labels: args.labels },
          spec: {
            ingressClassName: args.ingressClassName,
            tls: args.tlsSecret ? [{ hosts: [args.host], secretName: args.tlsSecret }] : undefined,
            rules: [
              {
                host: args.host,
                http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name, port: { name: "http" } } } }] },
              },
            ],
          },
        },
        child,
      );
      this.gatewayUrl = pulumi.output(`${args.tlsSecret ? "https" : "http"}://${args.host}`);
    } else {
      this.gatewayUrl = this.url;
    }
    // The workload registered its outputs already (a component registers once); the app registers gatewayUrl.
  }
}

/**
 * Where the app's gateways answer the count of one function's or model
 * version's held and in-flight requests in one region (DEMAND_PATH), for its
 * ScaledObject: the in-cluster gateway's Service; or, when the gateway runs
 * outside the cluster (an EKS or ACK part of another target's app), each of
 * `externalGateways`; with the TriggerAuthentication that presents the
 * metrics token to them. Undefined when the entry holds no requests or no
 * gateway is known.
 */
export function gatewayDemand(
  context: KubernetesContext,
  kind: "function" | "model",
  entry: string,
  region: string,
): GatewayDemand | undefined {
  if (!holdLimits(context.spec, kind, entry)) return undefined;
  const query = demandQuery(kind, entry, region);
  const urls = context.args.gateway
    ? [inClusterGatewayUrl(context, query)]
    : (context.args.externalGateways ?? []).map(
        (base) => pulumi.interpolate`${pulumi.output(base).apply((b) => b.replace(/\/$/, ""))}${query}`,
      );
  return urls.length > 0 ? { urls, authentication: metricsAuthentication(context) } : undefined;
}

/** The gateway step: the in-cluster gateway and its Redis, unless the app is a part of another target's (EKS or ACK models). */
export function placeGateway(context: KubernetesContext): void {
  const { spec, args } = context;
  if (!args.gateway) return;
  const redis = appRedis(context);
  const gateway = new KubernetesGateway(
    gatewayName(context),
    {
      namespace: context.namespace!,
      labels: entryLabels(spec.app, "gateway", "gateway"),
      spec,
      endpoints: context.endpoints,
      image: args.gatewayImage,
      apiKeys: args.apiKeys,
      prometheusUrl: args.prometheusUrl,
      redis,
      exposure: args.gatewayExposure,
      host: args.gatewayHost,
      tlsSecret: args.gatewayTlsSecret,
      ingressClassName: args.gatewayIngressClass,
      trustedProxies: args.gatewayTrustedProxies,
      locality: args.gatewayLocality,
      tracing: args.tracing,
      demandTokenSecret: demandTokenSecret(context),
      metricsTokenSecret: metricsTokenSecret(context),
    },
    context.child,
  );
  context.gatewayUrl = gateway.gatewayUrl;
}

/**
 * The in-cluster gateway: a workload running `cloudloom serve` on the spec and
 * the endpoints map (a ConfigMap of its own), accepting the API keys in its
 * Secret, kept at two replicas or more and scaled on CPU.
 */
import * as pulumi from "@pulumi/pulumi";
import * as core from "@pulumi/kubernetes/core/v1";
import type * as input from "@pulumi/kubernetes/types/input";
import type { ScalingPolicySpec, SpecV1 } from "../../sdk/spec";
import { CONTAINER_PORT, gatewayServeArgs, RUNTIME_ENV } from "../../runtime/contract";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import type { KubernetesContext } from "./context";
import { healthProbes } from "./pod";
import { KubernetesWorkload } from "./workload";

/** Two replicas survive a node's loss; CPU is what a proxy runs out of. */
const GATEWAY_SCALING: ScalingPolicySpec = { minInstances: 2, maxInstances: 10, targetUtilization: 70, schedules: [] };

/** Where the gateway mounts its ConfigMap. */
const CONFIG_DIR = "/etc/cloudloom";

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
}

/** The gateway's pod: its ConfigMap and Secret, created as the workload's children, mounted and referenced. */
function gatewayPodSpec(name: string, args: KubernetesGatewayArgs, child: pulumi.CustomResourceOptions): input.core.v1.PodSpec {
  const metadata = { name, namespace: args.namespace, labels: args.labels };
  const endpointsJson = pulumi.output(args.endpoints).apply((endpoints) => JSON.stringify(endpoints, null, 2));
  const config = new core.ConfigMap(
    name,
    { metadata, data: { "spec.json": JSON.stringify(args.spec, null, 2), "endpoints.json": endpointsJson } },
    child,
  );
  const keys = new core.Secret(
    `${name}-keys`,
    {
      metadata: { ...metadata, name: `${name}-keys` },
      stringData: { "api-keys": pulumi.output(args.apiKeys ?? []).apply((k) => k.join("\n")) },
    },
    child,
  );
  return {
    volumes: [{ name: "config", configMap: { name: config.metadata.name } }],
    containers: [
      {
        name: "gateway",
        image: args.image,
        args: gatewayServeArgs(CONFIG_DIR),
        ports: [{ name: "http", containerPort: CONTAINER_PORT }],
        env: [{ name: RUNTIME_ENV.apiKeys, valueFrom: { secretKeyRef: { name: keys.metadata.name, key: "api-keys" } } }],
        volumeMounts: [{ name: "config", mountPath: CONFIG_DIR, readOnly: true }],
        resources: { requests: { cpu: "500m", memory: "256Mi" }, limits: { memory: "512Mi" } },
        ...healthProbes(),
      },
    ],
  };
}

/** The gateway in the cluster, typed `cloudloom:kubernetes:Gateway`. */
export class KubernetesGateway extends KubernetesWorkload {
  constructor(name: string, args: KubernetesGatewayArgs, opts: pulumi.ComponentResourceOptions & { provider?: pulumi.ProviderResource }) {
    super(
      "Gateway",
      name,
      {
        namespace: args.namespace,
        labels: args.labels,
        podSpec: (child) => gatewayPodSpec(name, args, child),
        scaling: GATEWAY_SCALING,
        // Stateless proxies that restart on any node: a budget would only hold up node drains.
        disruptionBudget: false,
        prometheusUrl: args.prometheusUrl,
        // Its resources were the app's own children before the gateway was a component.
        formerParent: opts.parent,
      },
      opts,
    );
  }
}

/** The gateway step: the in-cluster gateway, unless the app is a part of another target's (EKS or ACK models). */
export function placeGateway(context: KubernetesContext): void {
  const { spec, args } = context;
  if (!args.gateway) return;
  new KubernetesGateway(
    resourceName(context.name, "gateway"),
    {
      namespace: context.namespace!,
      labels: entryLabels(spec.app, "gateway", "gateway"),
      spec,
      endpoints: context.endpoints,
      image: args.gatewayImage,
      apiKeys: args.apiKeys,
      prometheusUrl: args.prometheusUrl,
    },
    context.child,
  );
}

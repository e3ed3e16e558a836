/**
 * One function, model version or gateway in one region: a Deployment, its
 * Service, its autoscaler, and a PodDisruptionBudget when it is autoscaled or
 * at least two replicas must stay up. Its pod runs under the restricted Pod
 * Security Standard (security.ts), with a scratch volume and no API token.
 */
import * as pulumi from "@pulumi/pulumi";
import * as apps from "@pulumi/kubernetes/apps/v1";
import * as core from "@pulumi/kubernetes/core/v1";
import * as autoscaling from "@pulumi/kubernetes/autoscaling/v2";
import * as policy from "@pulumi/kubernetes/policy/v1";
import { CustomResource } from "@pulumi/kubernetes/apiextensions";
import type * as input from "@pulumi/kubernetes/types/input";
import type { ScalingPolicySpec } from "../../sdk/spec";
import { autoscalerKind, hpaSpec, queueWorkerPolicy, scaledObjectSpec, type GatewayDemand, type QueueScaling } from "./autoscaling";
import { CONTAINER_PORT, RUNTIME_ENV } from "../../runtime/contract";
import { FRONTED_BY, REQUIRES_AUTH } from "../shared/labels";
import type { KubernetesContext } from "./context";
import { restrictedPod, RUNTIME_USER, scratchVolume } from "./security";
import { tracingEnv } from "./tracing";

/** The kinds of workload, each its own component type `cloudloom:kubernetes:<Kind>`. */
export type WorkloadKind = "Function" | "Model" | "Gateway";

/** Inputs of a workload. */
export interface WorkloadArgs {
  namespace: pulumi.Input<string>;
  labels: Record<string, string>;
  /**
   * The pod template's spec, or a builder of it for pods that mount
   * resources of their own, which it creates with `child` (the workload's
   * options) so that they belong to the workload.
   */
  podSpec: input.core.v1.PodSpec | ((child: pulumi.CustomResourceOptions) => input.core.v1.PodSpec);
  scaling?: ScalingPolicySpec;
  /** Keep a PodDisruptionBudget when the workload is autoscaled or its floor is two or more. @default true */
  disruptionBudget?: boolean;
  /** Spread the replicas across nodes and zones (topologySpreadConstraints). @default false */
  spread?: boolean;
  /**
   * The parent the workload's resources had before they were grouped under
   * this component: an alias to it lets `pulumi up` keep them instead of
   * replacing them.
   */
  formerParent?: pulumi.Resource;
  prometheusUrl: string;
  /** Where the app's gateways count this workload's held and in-flight requests, and how KEDA reads them (see gateway.ts gatewayDemand). */
  gatewayDemand?: GatewayDemand;
  /** How the Service is reached from outside the cluster; absent: ClusterIP. */
  exposure?: WorkloadExposure;
  /** The asynchronous entry's queue its pods work, which its scaler then measures too. */
  queue?: QueueScaling;
  /** Variables every container of the pod gets besides its own (tracing's OTEL_*). @default [] */
  env?: input.core.v1.EnvVar[];
}

/**
 * A Service reachable from outside the cluster: on a node port that only an
 * authenticated front (named by `frontedBy`) can reach, or on a load balancer
 * whose pods require the gateway's JWT.
 */
export type WorkloadExposure =
  | { type: "NodePort"; port: number; frontedBy: string }
  | {
      type: "LoadBalancer";
      annotations: Record<string, string>;
      /**
       * Who authenticates callers: the pods, with the gateway's JWT (the
       * default), or the gateway itself, which is the authenticated front.
       */
      authenticatedBy?: "jwt" | "gateway";
    };

/** The Service's annotations for an exposure. */
function exposureAnnotations(exposure: WorkloadExposure): Record<string, string> {
  if (exposure.type === "NodePort") return { [FRONTED_BY]: exposure.frontedBy };
  return exposure.authenticatedBy === "gateway" ? { ...exposure.annotations } : { ...exposure.annotations, [REQUIRES_AUTH]: "jwt" };
}

/**
 * The Deployment's `replicas`: 1 without an autoscaler; none under one, so
 * that no apply ever resets what the HPA or ScaledObject decided (the API
 * server starts a new Deployment at 1, and the autoscaler takes it from there).
 */
export function deploymentReplicas(scaling: ScalingPolicySpec | undefined): number | undefined {
  return scaling ? undefined : 1;
}

/** Whether a workload gets a PodDisruptionBudget: autoscaled, or a floor of two or more. */
export function needsDisruptionBudget(scaling: ScalingPolicySpec | undefined): boolean {
  return scaling !== undefined;
}

/** Replicas spread over nodes, then zones: as evenly as the cluster allows, never left unscheduled for it. */
export function spreadConstraints(selector: Record<string, string>): input.core.v1.TopologySpreadConstraint[] {
  return ["kubernetes.io/hostname", "topology.kubernetes.io/zone"].map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    // A one-node or one-zone cluster still runs every replica.
    whenUnsatisfiable: "ScheduleAnyway",
    labelSelector: { matchLabels: selector },
  }));
}

/** The pod under the restricted profile, with its scratch volume (and spread, when asked). */
function hardenedPod(spec: input.core.v1.PodSpec, selector: Record<string, string>, spread: boolean): input.core.v1.PodSpec {
  const volumes = [...((spec.volumes as input.core.v1.Volume[] | undefined) ?? []), scratchVolume()];
  return restrictedPod({ ...spec, volumes, topologySpreadConstraints: spread ? spreadConstraints(selector) : undefined }, RUNTIME_USER);
}

/** A Deployment + Service (+ autoscaler, + PDB), typed `cloudloom:kubernetes:<Kind>`. */
export class KubernetesWorkload extends pulumi.ComponentResource {
  /** URL of the workload's Service: in-cluster, or its load balancer's. */
  readonly url: pulumi.Output<string>;

  constructor(
    kind: WorkloadKind,
    name: string,
    args: WorkloadArgs,
    opts: pulumi.ComponentResourceOptions & { provider?: pulumi.ProviderResource },
  ) {
    super(`cloudloom:kubernetes:${kind}`, name, {}, opts);
    // A queue's workers are autoscaled even without a policy of their own (to zero, when nothing else calls them).
    if (args.queue && !args.scaling) args = { ...args, scaling: queueWorkerPolicy(args.queue) };
    const child = {
      parent: this,
      provider: opts.provider,
      aliases: args.formerParent ? [{ parent: args.formerParent }] : undefined,
    };
    const metadata = { name, namespace: args.namespace, labels: args.labels };
    const selector = { "cloudloom.dev/workload": name };
    const built = typeof args.podSpec === "function" ? args.podSpec(child) : args.podSpec;
    const hardened = hardenedPod(built, selector, args.spread ?? false);
    // Functions and models scale on their pods' in-flight gauge; the gateway scales on CPU.
    const podSpec = withEnv(hardened, [...(kind === "Gateway" ? [] : [WORKLOAD_NAME_ENV]), ...(args.env ?? [])]);
    const deployment = new apps.Deployment(
      name,
      {
        metadata,
        spec: {
          replicas: deploymentReplicas(args.scaling),
          selector: { matchLabels: selector },
          template: { metadata: { labels: { ...args.labels, ...selector } }, spec: podSpec },
        },
      },
      child,
    );
    const service = new core.Service(
      name,
      {
        metadata: args.exposure ? { ...metadata, annotations: exposureAnnotations(args.exposure) } : metadata,
        spec: {
          type: args.exposure?.type ?? "ClusterIP",
          // The gateway's per-address limits need the client's address, which cluster-wide routing replaces.
          externalTrafficPolicy:
            args.exposure?.type === "LoadBalancer" && args.exposure.authenticatedBy === "gateway" ? "Local" : undefined,
          selector,
          ports: [
            {
              name: "http",
              port: 80,
              targetPort: CONTAINER_PORT,
              nodePort: args.exposure?.type === "NodePort" ? args.exposure.port : undefined,
            },
          ],
        },
      },
      child,
    );
    if (args.scaling) this.createAutoscaler(name, args, deployment, child);
    if (needsDisruptionBudget(args.scaling) && args.disruptionBudget !== false) {
      // One pod at a time: a drain proceeds, never takes every replica at once.
      new policy.PodDisruptionBudget(name, { metadata, spec: { maxUnavailable: 1, selector: { matchLabels: selector } } }, child);
    }
    this.url =
      args.exposure?.type === "LoadBalancer"
        ? pulumi.interpolate`http://${service.status.loadBalancer.ingress.apply((ingress) => ingress?.[0]?.ip || ingress?.[0]?.hostname)}`
        : // From the Service's own name and namespace: one Output, where an interpolation makes several per workload.
          service.metadata.apply(({ name, namespace }) => `http://${name}.${namespace}.svc.cluster.local`);
    this.registerOutputs({ url: this.url });
  }

  private createAutoscaler(name: string, args: WorkloadArgs, deployment: apps.Deployment, child: pulumi.CustomResourceOptions): void {
    const scaling = args.scaling!;
    const metadata = { name, namespace: args.namespace, labels: args.labels };
    if (autoscalerKind(scaling, args.queue) === "hpa") {
      new autoscaling.HorizontalPodAutoscaler(name, { metadata, spec: hpaSpec(scaling, name) }, { ...child, dependsOn: [deployment] });
      return;
    }
    new CustomResource(
      name,
      {
        apiVersion: "keda.sh/v1alpha1",
        kind: "ScaledObject",
        metadata,
        spec: scaledObjectSpec(scaling, name, args.prometheusUrl, args.gatewayDemand, args.queue),
      },
      { ...child, dependsOn: [deployment] },
    );
  }
}

/** Creates one function or model workload of the app and returns its URL; `gatewayDemand` is where the gateways count its requests. */
export function placeWorkload(
  context: KubernetesContext,
  kind: "Function" | "Model",
  name: string,
  labels: Record<string, string>,
  podSpec: input.core.v1.PodSpec,
  scaling: string | undefined,
  exposure?: WorkloadExposure,
  gatewayDemand?: GatewayDemand,
  queue?: QueueScaling,
): pulumi.Output<string> {
  const policy = scaling ? context.spec.scalingPolicies[scaling] : undefined;
  const args: WorkloadArgs = {
    namespace: context.namespace!,
    labels,
    podSpec,
    scaling: policy,
    prometheusUrl: context.args.prometheusUrl,
    exposure,
    gatewayDemand,
    queue,
    env: tracingEnv(context.args.tracing, context.spec.app),
  };
  return new KubernetesWorkload(kind, name, args, context.child).url;
}

/** Which Deployment a function's or model's container belongs to (the downward API), to label the gauge its autoscaler reads. */
const WORKLOAD_NAME_ENV: input.core.v1.EnvVar = {
  name: RUNTIME_ENV.workload,
  valueFrom: { fieldRef: { fieldPath: "metadata.labels['cloudloom.dev/workload']" } },
};

/** The pod with `variables` after each container's own (its init containers, which only fetch, left as they are). */
function withEnv(pod: input.core.v1.PodSpec, variables: input.core.v1.EnvVar[]): input.core.v1.PodSpec {
  if (variables.length === 0) return pod;
  const containers = pod.containers as input.core.v1.Container[];
  return {
    ...pod,
    containers: containers.map((c) => ({ ...c, env: [...((c.env as input.core.v1.EnvVar[] | undefined) ?? []), ...variables] })),
  };
}

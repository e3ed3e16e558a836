/**
 * ACK for GPU pools that ask for Kubernetes: one cluster per region (a
 * managed ACK Pro cluster cloudloom creates, or the user's), a GPU node pool
 * per pool, the model workloads' autoscalers, and a Kubernetes provider from
 * the cluster's credential (`cs.getClusterCredential`). The cluster's ACK
 * components put the NVIDIA device plugin on GPU nodes and, for node pools
 * with auto scaling, run the cluster autoscaler.
 */
import * as pulumi from "@pulumi/pulumi";
import { getClusterCredentialOutput, ManagedKubernetes, NodePool } from "@pulumi/alicloud/cs";
import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import type { Accelerator, GpuPoolSpec } from "../../sdk/spec";
import { ACCELERATOR_LABEL_PRESETS, acceleratorSelector } from "../kubernetes/accelerator-labels";
import { entryLabels } from "../shared/labels";
import { workloadAutoscalers } from "../shared/pinned-charts";
import type { AckSettings } from "./ack-settings";
import type { ArtifactReader } from "./artifact-reader";
import { ecsGpuInstanceType } from "./instance-types";

/** Minutes the credential behind the Kubernetes provider lasts; each `pulumi up` fetches a fresh one. */
const CREDENTIAL_MINUTES = 120;

/** The taint every GPU node carries, so only GPU workloads (which tolerate it) land there. */
const GPU_TAINT = { key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" } as const;

/** Inputs of one region's ACK cluster. */
export interface AckClusterArgs {
  app: string;
  settings: AckSettings;
}

/** A region's ACK cluster and its Kubernetes provider, typed `cloudloom:alicloud:AckCluster`. */
export class AckCluster extends pulumi.ComponentResource {
  readonly clusterId: pulumi.Output<string>;
  /** Provider for the cluster's Kubernetes API. */
  readonly kubernetes: KubernetesProvider;
  /** What the app's workloads must wait for: the autoscalers' charts. */
  readonly ready: pulumi.Resource[];
  private readonly child: pulumi.CustomResourceOptions;

  constructor(
    name: string,
    private readonly args: AckClusterArgs,
    opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource },
  ) {
    super("cloudloom:alicloud:AckCluster", name, {}, opts);
    this.child = { parent: this, provider: opts.provider };
    const { settings } = args;
    this.clusterId = settings.clusterId
      ? pulumi.output(settings.clusterId)
      : new ManagedKubernetes(
          name,
          {
            name,
            clusterSpec: "ack.pro.small",
            vswitchIds: settings.vswitchIds,
            podCidr: settings.podCidr,
            serviceCidr: settings.serviceCidr,
            // `pulumi up` reaches the API server from outside the VPC to place the workloads.
            slbInternetEnabled: true,
            newNatGateway: true,
            tags: entryLabels(args.app, "app", args.app),
          },
          this.child,
        ).id;
    const credential = getClusterCredentialOutput(
      { clusterId: this.clusterId, temporaryDurationMinutes: CREDENTIAL_MINUTES },
      { parent: this, provider: opts.provider },
    );
    this.kubernetes = new KubernetesProvider(name, { kubeconfig: pulumi.secret(credential.kubeConfig) }, { parent: this });
    this.ready = workloadAutoscalers(name, { parent: this, provider: this.kubernetes });
    this.registerOutputs({ clusterId: this.clusterId });
  }

  /**
   * A GPU node pool for `pool`: its ECS GPU type, min..max with the cluster
   * autoscaler, the GPU taint, ACK's accelerator label (so scale-from-zero
   * knows what a node would offer), and spot when declared.
   */
  addGpuPool(name: string, poolName: string, pool: GpuPoolSpec, reader: ArtifactReader): NodePool {
    const accelerator = acceleratorSelector(ACCELERATOR_LABEL_PRESETS.ack, pool.accelerator as Accelerator);
    return new NodePool(
      name,
      {
        clusterId: this.clusterId,
        nodePoolName: name,
        vswitchIds: this.args.settings.vswitchIds,
        instanceTypes: [ecsGpuInstanceType(pool)],
        scalingConfig: { enable: true, minSize: pool.minSize, maxSize: pool.maxSize },
        spotStrategy: pool.capacity === "spot" ? "SpotAsPriceGo" : "NoSpot",
        taints: [GPU_TAINT],
        labels: [...Object.entries(accelerator), ["cloudloom.dev/pool", poolName]].map(([key, value]) => ({ key, value })),
        systemDiskCategory: "cloud_essd",
        systemDiskSize: 120,
        // The nodes' role may read only this region's ACK model artifacts (their pods fetch them with it).
        ramRoleName: reader.role.roleName,
        tags: entryLabels(this.args.app, "gpu-pool", poolName),
      },
      { ...this.child, dependsOn: [reader.attached] },
    );
  }
}

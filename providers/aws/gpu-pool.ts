/**
 * A GPU pool in one AWS region: an EKS managed node group on the NVIDIA
 * AL2023 AMI, with the instance type mapped from the accelerator, the pool's
 * size, the `nvidia.com/gpu` taint and spot capacity when declared. Its node
 * role may read exactly the model artifacts the pool serves.
 */
import * as pulumi from "@pulumi/pulumi";
import { NodeGroup } from "@pulumi/aws/eks";
import { RolePolicy } from "@pulumi/aws/iam";
import { ACCELERATORS, type Accelerator, type GpuPoolSpec } from "../../sdk/spec";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import { createNodeRole, EksCluster } from "./cluster";
import { modelsIn, type AwsContext } from "./context";
import { readObjectsPolicy } from "./iam";
import { gpuInstanceType } from "./instance-types";
import { clusterRegions } from "./networks";

/** Inputs of one GPU pool in one region. */
export interface EksGpuPoolArgs {
  app: string;
  /** The pool's spec name. */
  entry: string;
  pool: GpuPoolSpec;
  /** The cluster the node group joins. */
  clusterName: pulumi.Input<string>;
  /** Subnets of the nodes (a Local Zone's subnets for a zone region). */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** S3 objects (ARNs) of the artifacts the pool's model servers fetch. */
  artifactArns: pulumi.Input<string>[];
}

/** An EKS GPU node group, typed `cloudloom:aws:GpuPool`. */
export class EksGpuPool extends pulumi.ComponentResource {
  /** The Auto Scaling group EKS created for the nodes (load balancers attach to it). */
  readonly autoscalingGroupName: pulumi.Output<string>;

  constructor(name: string, args: EksGpuPoolArgs, opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource }) {
    super("cloudloom:aws:GpuPool", name, {}, opts);
    const child = { parent: this, provider: opts.provider };
    const tags = entryLabels(args.app, "gpu-pool", args.entry);
    const { role: nodeRole, attachments } = createNodeRole(name, tags, child);
    const ready = [...attachments];
    if (args.artifactArns.length > 0) {
      ready.push(
        new RolePolicy(
          `${name}-artifacts`,
          { role: nodeRole.id, policy: pulumi.all(args.artifactArns).apply((arns) => readObjectsPolicy(arns)) },
          child,
        ),
      );
    }
    const label =
      (ACCELERATORS[args.pool.accelerator as Accelerator] as { kubernetes?: { label: string } }).kubernetes?.label ?? args.pool.accelerator;
    const group = new NodeGroup(
      name,
      {
        clusterName: args.clusterName,
        nodeGroupName: name,
        nodeRoleArn: nodeRole.arn,
        subnetIds: args.subnetIds,
        amiType: "AL2023_x86_64_NVIDIA",
        instanceTypes: [gpuInstanceType(args.pool)],
        capacityType: args.pool.capacity === "spot" ? "SPOT" : "ON_DEMAND",
        scalingConfig: { minSize: args.pool.minSize, maxSize: args.pool.maxSize, desiredSize: args.pool.minSize },
        taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NO_SCHEDULE" }],
        labels: { "k8s.amazonaws.com/accelerator": label, ...tags },
        tags,
      },
      { ...child, dependsOn: ready, ignoreChanges: ["scalingConfig.desiredSize"] },
    );
    this.autoscalingGroupName = group.resources.apply((resources) => resources[0].autoscalingGroups[0].name);
    this.registerOutputs({ autoscalingGroupName: this.autoscalingGroupName });
  }
}

/** The gpuPools step: in every region serving GPU models, an EKS cluster and a node group per pool those models use. */
export function placeGpuPools(context: AwsContext): void {
  const { spec, args, name, parent } = context;
  for (const region of clusterRegions(spec)) {
    const { provider, awsRegion } = context.regions.get(region)!;
    const network = args.networks[region];
    const cluster = new EksCluster(
      resourceName(name, region),
      { app: spec.app, subnetIds: network.subnetIds, publicAccessCidrs: args.clusterApiCidrs ?? args.gateway?.clusterApiCidrs },
      { parent, provider, region: awsRegion },
    );
    const pools = new Map<string, EksGpuPool>();
    const served = modelsIn(spec, region, true);
    for (const [poolName, pool] of Object.entries(spec.gpuPools)) {
      const keys = served.filter((key) => spec.models[key].pool === poolName);
      if (keys.length === 0) continue;
      const group = new EksGpuPool(
        resourceName(name, poolName, region),
        {
          app: spec.app,
          entry: poolName,
          pool,
          clusterName: cluster.name,
          subnetIds: network.zoneSubnetIds ?? network.subnetIds,
          artifactArns: keys.map((key) => context.artifacts.get(`${key}/${region}`)!.arn),
        },
        { parent, provider },
      );
      pools.set(poolName, group);
    }
    context.clusters.set(region, { cluster, pools });
  }
}

/**
 * A GPU pool in one AWS region: an EKS managed node group on the NVIDIA
 * AL2023 AMI, with the instance type mapped from the accelerator, the pool's
 * size, the `nvidia.com/gpu` taint and spot capacity when declared. The EKS
 * cluster is created, or reused by name.
 */
import * as pulumi from "@pulumi/pulumi";
import { Cluster, NodeGroup } from "@pulumi/aws/eks";
import { Role, RolePolicyAttachment } from "@pulumi/aws/iam";
import { ACCELERATORS, type Accelerator, type GpuPoolSpec } from "../../sdk/spec";
import { entryLabels } from "../shared/labels";
import { assumeRolePolicy } from "./iam";
import { gpuInstanceType } from "./instance-types";

const MANAGED = "arn:aws:iam::aws:policy";

/** Inputs of one GPU pool in one region. */
export interface EksGpuPoolArgs {
  app: string;
  /** The pool's spec name. */
  entry: string;
  pool: GpuPoolSpec;
  /** Subnets of the node group (and of the cluster, when it is created). */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** An existing EKS cluster to add the node group to. */
  clusterName?: pulumi.Input<string>;
}

/** A kubeconfig that authenticates with `aws eks get-token`. */
export function eksKubeconfig(cluster: { name: string; endpoint: string; certificateAuthority: string; region: string }): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: cluster.name, cluster: { server: cluster.endpoint, "certificate-authority-data": cluster.certificateAuthority } }],
    contexts: [{ name: cluster.name, context: { cluster: cluster.name, user: cluster.name } }],
    "current-context": cluster.name,
    users: [
      {
        name: cluster.name,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: ["eks", "get-token", "--cluster-name", cluster.name, "--region", cluster.region],
          },
        },
      },
    ],
  });
}

/** An EKS GPU node group (and its cluster), typed `cloudloom:aws:GpuPool`. */
export class EksGpuPool extends pulumi.ComponentResource {
  /** The cluster the node group joined. */
  readonly clusterName: pulumi.Output<string>;
  /** Kubeconfig for a `k8s.Provider`, when the cluster was created here. */
  readonly kubeconfig?: pulumi.Output<string>;

  constructor(
    name: string,
    args: EksGpuPoolArgs,
    opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource; region: string },
  ) {
    super("cloudloom:aws:GpuPool", name, {}, opts);
    const child = { parent: this, provider: opts.provider };
    const tags = entryLabels(args.app, "gpu-pool", args.entry);
    let clusterName = pulumi.output(args.clusterName ?? "");
    if (!args.clusterName) {
      const clusterRole = new Role(`${name}-cluster-role`, { assumeRolePolicy: assumeRolePolicy("eks.amazonaws.com"), tags }, child);
      const attached = new RolePolicyAttachment(
        `${name}-cluster-policy`,
        { role: clusterRole.name, policyArn: `${MANAGED}/AmazonEKSClusterPolicy` },
        child,
      );
      const cluster = new Cluster(
        `${name}-cluster`,
        {
          name: `${name}-cluster`,
          roleArn: clusterRole.arn,
          vpcConfig: { subnetIds: args.subnetIds },
          accessConfig: { authenticationMode: "API" },
          tags,
        },
        { ...child, dependsOn: [attached] },
      );
      clusterName = cluster.name;
      this.kubeconfig = pulumi
        .all([cluster.name, cluster.endpoint, cluster.certificateAuthority])
        .apply(([clusterId, endpoint, ca]) =>
          eksKubeconfig({ name: clusterId, endpoint, certificateAuthority: ca?.data ?? "", region: opts.region }),
        );
    }
    const nodeRole = new Role(`${name}-node-role`, { assumeRolePolicy: assumeRolePolicy("ec2.amazonaws.com"), tags }, child);
    const attachments = ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"].map(
      (policy) => new RolePolicyAttachment(`${name}-${policy}`, { role: nodeRole.name, policyArn: `${MANAGED}/${policy}` }, child),
    );
    const label =
      (ACCELERATORS[args.pool.accelerator as Accelerator] as { kubernetes?: { label: string } }).kubernetes?.label ?? args.pool.accelerator;
    new NodeGroup(
      name,
      {
        clusterName,
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
      { ...child, dependsOn: attachments },
    );
    this.clusterName = clusterName;
    this.registerOutputs({ clusterName: this.clusterName });
  }
}

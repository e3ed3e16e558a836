/**
 * EKS self-managed nodes in one subnet, for zones where managed node groups
 * are not offered (Wavelength): a node role with the AWS-managed node
 * policies, an instance profile, a launch template on the EKS-optimized
 * AL2023 AMI (resolved by EC2 from its public SSM parameter, so the plan needs
 * no lookup) whose user data joins the cluster with nodeadm, an Auto Scaling
 * group, and an EKS access entry of type EC2_LINUX that lets the role's
 * instances register as nodes. In a Wavelength subnet each node takes a
 * carrier IP, its only way out through the carrier gateway.
 */
import * as pulumi from "@pulumi/pulumi";
import { Group } from "@pulumi/aws/autoscaling";
import { Instance, LaunchTemplate } from "@pulumi/aws/ec2";
import { AccessEntry } from "@pulumi/aws/eks";
import { InstanceProfile, RolePolicy } from "@pulumi/aws/iam";
import { entryLabels } from "../shared/labels";
import { createNodeRole } from "./cluster";
import { readObjectsPolicy } from "./iam";

/** What a node needs to know of its cluster to join it. */
export interface ClusterJoin {
  name: pulumi.Input<string>;
  endpoint: pulumi.Input<string>;
  certificateAuthority: pulumi.Input<string>;
  /** The cluster's Service IPv4 range. */
  serviceCidr: pulumi.Input<string>;
  /** The cluster's Kubernetes version (picks the AMI). */
  version: pulumi.Input<string>;
  /** The cluster security group, which nodes join so the control plane reaches them. */
  securityGroupId: pulumi.Input<string>;
}

/** Inputs of one group of self-managed nodes. */
export interface SelfManagedNodesArgs {
  app: string;
  /** The entry the nodes serve: a GPU pool's name, or the region's runtime nodes. */
  kind: "gpu-pool" | "region";
  entry: string;
  cluster: ClusterJoin;
  subnetId: pulumi.Input<string>;
  instanceType: string;
  /** The NVIDIA AMI and the `nvidia.com/gpu` taint. */
  gpu: boolean;
  minSize: number;
  maxSize: number;
  /** Kubernetes labels the nodes register with. */
  labels: Record<string, string>;
  /** Security groups besides the cluster's (e.g. the gateway's node port from the carrier network). */
  securityGroupIds?: pulumi.Input<string>[];
  /** Take a carrier IP on eth0 (Wavelength). */
  carrierIp: boolean;
  /** S3 objects (ARNs) the nodes' pods fetch: model artifacts. */
  artifactArns?: pulumi.Input<string>[];
  /**
   * One standing instance instead of an Auto Scaling group (`minSize`/`maxSize` ignored), so an
   * address can be associated with it: the edge gateway's node, which holds the zone's carrier Elastic IP.
   */
  single?: boolean;
}

/** The public SSM parameter holding the EKS-optimized AL2023 AMI id for a Kubernetes version. */
export function eksAmiParameter(version: string, gpu: boolean): string {
  return `/aws/service/eks/optimized-ami/${version}/amazon-linux-2023/x86_64/${gpu ? "nvidia" : "standard"}/recommended/image_id`;
}

/** The GPU taint, as the kubelet flag and as the managed node groups' taint. */
export const GPU_TAINT = "nvidia.com/gpu=present:NoSchedule";

/** nodeadm's NodeConfig in a MIME multi-part user data document, base64 as launch templates take it. */
export function nodeadmUserData(join: {
  name: string;
  endpoint: string;
  certificateAuthority: string;
  serviceCidr: string;
  labels: Record<string, string>;
  gpu: boolean;
}): string {
  const labels = Object.entries(join.labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(",");
  const flags = [`--node-labels=${labels}`, ...(join.gpu ? [`--register-with-taints=${GPU_TAINT}`] : [])];
  const nodeConfig = [
    "apiVersion: node.eks.aws/v1alpha1",
    "kind: NodeConfig",
    "spec:",
    "  cluster:",
    `    name: ${join.name}`,
    `    apiServerEndpoint: ${join.endpoint}`,
    `    certificateAuthority: ${join.certificateAuthority}`,
    `    cidr: ${join.serviceCidr}`,
    "  kubelet:",
    "    flags:",
    ...flags.map((flag) => `      - ${JSON.stringify(flag)}`),
  ].join("\n");
  const document = [
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="//"',
    "",
    "--//",
    "Content-Type: application/node.eks.aws",
    "",
    nodeConfig,
    "",
    "--//--",
    "",
  ].join("\n");
  return Buffer.from(document).toString("base64");
}

/** Self-managed EKS nodes, typed `cloudloom:aws:SelfManagedNodes`. */
export class EksSelfManagedNodes extends pulumi.ComponentResource {
  /** The Auto Scaling group's name, or the single instance's id. */
  readonly autoscalingGroupName?: pulumi.Output<string>;
  readonly instanceId?: pulumi.Output<string>;

  constructor(name: string, args: SelfManagedNodesArgs, opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource }) {
    super("cloudloom:aws:SelfManagedNodes", name, {}, opts);
    const child = { parent: this, provider: opts.provider };
    const tags = entryLabels(args.app, args.kind, args.entry);
    const { role, attachments } = createNodeRole(name, tags, child);
    const ready: pulumi.Resource[] = [...attachments];
    if (args.artifactArns && args.artifactArns.length > 0)
      ready.push(
        new RolePolicy(
          `${name}-artifacts`,
          { role: role.id, policy: pulumi.all(args.artifactArns).apply((arns) => readObjectsPolicy(arns)) },
          child,
        ),
      );
    const profile = new InstanceProfile(name, { role: role.name, tags }, child);
    const access = new AccessEntry(name, { clusterName: args.cluster.name, principalArn: role.arn, type: "EC2_LINUX", tags }, child);
    const { cluster } = args;
    const userData = pulumi
      .all([cluster.name, cluster.endpoint, cluster.certificateAuthority, cluster.serviceCidr])
      .apply(([clusterName, endpoint, certificateAuthority, serviceCidr]) =>
        nodeadmUserData({ name: clusterName, endpoint, certificateAuthority, serviceCidr, labels: args.labels, gpu: args.gpu }),
      );
    const template = new LaunchTemplate(
      name,
      {
        // EC2 resolves the AMI from AWS's public parameter at launch.
        imageId: pulumi.output(cluster.version).apply((version) => `resolve:ssm:${eksAmiParameter(version, args.gpu)}`),
        instanceType: args.instanceType,
        iamInstanceProfile: { arn: profile.arn },
        userData,
        networkInterfaces: [
          {
            // The Auto Scaling group names the subnet; an interface here must not.
            deviceIndex: 0,
            securityGroups: [cluster.securityGroupId, ...(args.securityGroupIds ?? [])],
            ...(args.carrierIp && !args.single ? { associateCarrierIpAddress: "true" } : {}),
            deleteOnTermination: "true",
          },
        ],
        // Pods may not borrow the node's credentials beyond one hop (IMDSv2 only).
        metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2, httpEndpoint: "enabled" },
        tagSpecifications: [{ resourceType: "instance", tags: { ...tags, Name: name } }],
        tags,
      },
      child,
    );
    if (args.single) {
      const instance = new Instance(
        name,
        { launchTemplate: { id: template.id, version: "$Latest" }, subnetId: args.subnetId, tags: { ...tags, Name: name } },
        { ...child, dependsOn: [...ready, access] },
      );
      this.instanceId = instance.id;
      this.registerOutputs({ instanceId: this.instanceId });
      return;
    }
    const group = new Group(
      name,
      {
        name,
        minSize: args.minSize,
        maxSize: args.maxSize,
        desiredCapacity: args.minSize,
        vpcZoneIdentifiers: [args.subnetId],
        launchTemplate: { id: template.id, version: "$Latest" },
        tags: [
          { key: pulumi.interpolate`kubernetes.io/cluster/${cluster.name}`, value: "owned", propagateAtLaunch: true },
          ...Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
        ],
      },
      { ...child, dependsOn: [...ready, access], ignoreChanges: ["desiredCapacity"] },
    );
    this.autoscalingGroupName = group.name;
    this.registerOutputs({ autoscalingGroupName: this.autoscalingGroupName });
  }
}

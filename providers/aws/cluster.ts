/**
 * The EKS cluster of one region: its control plane in the region's subnets
 * (at least two Availability Zones), with AWS-managed policies only, a small
 * system node group for CoreDNS and the add-ons (GPU nodes are tainted), and
 * a kubeconfig for the Kubernetes module's explicit provider. The API
 * endpoint is private to the VPC, and public only to `cloudloom:clusterApiCidrs`.
 */
import * as pulumi from "@pulumi/pulumi";
import { Cluster, NodeGroup } from "@pulumi/aws/eks";
import { Role, RolePolicyAttachment } from "@pulumi/aws/iam";
import { entryLabels } from "../shared/labels";
import { assumeRolePolicy, MANAGED_POLICY } from "./iam";
import type { ClusterJoin } from "./self-managed-nodes";

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

/** The AWS-managed policies every EKS node needs. */
const NODE_POLICIES = ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"];

/** A node role with the AWS-managed node policies; returns the role and its attachments (to depend on). */
export function createNodeRole(
  name: string,
  tags: Record<string, string>,
  child: pulumi.CustomResourceOptions,
): { role: Role; attachments: pulumi.Resource[] } {
  const role = new Role(`${name}-node-role`, { assumeRolePolicy: assumeRolePolicy("ec2.amazonaws.com"), tags }, child);
  const attachments = NODE_POLICIES.map(
    (policy) => new RolePolicyAttachment(`${name}-${policy}`, { role: role.name, policyArn: `${MANAGED_POLICY}/${policy}` }, child),
  );
  return { role, attachments };
}

/** Size of the system node group that runs CoreDNS and the add-ons (GPU nodes are tainted). */
const SYSTEM_NODES = { instanceType: "t3.large", minSize: 1, maxSize: 3 };

/** Inputs of a region's cluster. */
export interface EksClusterArgs {
  app: string;
  /** Control-plane subnets, in at least two Availability Zones of the region. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * CIDRs the API endpoint is public to. Absent or empty: public access is
   * off and the API is reachable from the VPC only (private endpoint).
   */
  publicAccessCidrs?: string[];
}

/** An EKS cluster and its role, typed `cloudloom:aws:Cluster`. */
export class EksCluster extends pulumi.ComponentResource {
  readonly name: pulumi.Output<string>;
  /** The security group EKS gives the control plane and managed nodes. */
  readonly securityGroupId: pulumi.Output<string>;
  /** Kubeconfig for a `k8s.Provider` (authenticates with `aws eks get-token`). */
  readonly kubeconfig: pulumi.Output<string>;
  /** What self-managed nodes need to join: endpoint, CA, Service range and version (see self-managed-nodes.ts). */
  readonly join: ClusterJoin;

  constructor(
    name: string,
    args: EksClusterArgs,
    opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource; region: string },
  ) {
    super("cloudloom:aws:Cluster", name, {}, opts);
    const child = { parent: this, provider: opts.provider };
    const tags = entryLabels(args.app, "app", args.app);
    const publicCidrs = args.publicAccessCidrs ?? [];
    const role = new Role(`${name}-role`, { assumeRolePolicy: assumeRolePolicy("eks.amazonaws.com"), tags }, child);
    const attached = new RolePolicyAttachment(
      `${name}-policy`,
      { role: role.name, policyArn: `${MANAGED_POLICY}/AmazonEKSClusterPolicy` },
      child,
    );
    const cluster = new Cluster(
      name,
      {
        name,
        roleArn: role.arn,
        vpcConfig: {
          subnetIds: args.subnetIds,
          endpointPrivateAccess: true,
          endpointPublicAccess: publicCidrs.length > 0,
          ...(publicCidrs.length > 0 ? { publicAccessCidrs: publicCidrs } : {}),
        },
        accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
        tags,
      },
      { ...child, dependsOn: [attached] },
    );
    const system = createNodeRole(`${name}-system`, tags, child);
    new NodeGroup(
      `${name}-system`,
      {
        clusterName: cluster.name,
        nodeGroupName: `${name}-system`,
        nodeRoleArn: system.role.arn,
        subnetIds: args.subnetIds,
        amiType: "AL2023_x86_64_STANDARD",
        instanceTypes: [SYSTEM_NODES.instanceType],
        scalingConfig: { minSize: SYSTEM_NODES.minSize, maxSize: SYSTEM_NODES.maxSize, desiredSize: SYSTEM_NODES.minSize },
        labels: { "cloudloom.dev/nodes": "system" },
        tags,
      },
      { ...child, dependsOn: system.attachments, ignoreChanges: ["scalingConfig.desiredSize"] },
    );
    this.name = cluster.name;
    this.securityGroupId = cluster.vpcConfig.clusterSecurityGroupId;
    this.join = {
      name: cluster.name,
      endpoint: cluster.endpoint,
      certificateAuthority: cluster.certificateAuthority.apply((ca) => ca?.data ?? ""),
      serviceCidr: cluster.kubernetesNetworkConfig.apply((network) => network?.serviceIpv4Cidr ?? ""),
      version: cluster.version,
      securityGroupId: this.securityGroupId,
    };
    this.kubeconfig = pulumi.secret(
      pulumi
        .all([cluster.name, cluster.endpoint, cluster.certificateAuthority])
        .apply(([clusterName, endpoint, ca]) =>
          eksKubeconfig({ name: clusterName, endpoint, certificateAuthority: ca?.data ?? "", region: opts.region }),
        ),
    );
    this.registerOutputs({ name: this.name });
  }
}

/** EKS API endpoints are private, and public only to named CIDRs. */
import type { StackValidationPolicy } from "@pulumi/policy";

const OPEN = new Set(["0.0.0.0/0", "::/0"]);

/** Private endpoint access on; public access off, or limited to CIDRs that are not the whole internet. */
export const awsPrivateClusterEndpoint: StackValidationPolicy = {
  name: "cloudloom-aws-private-cluster-endpoint",
  description:
    "EKS clusters enable private endpoint access and either disable public access or limit it to CIDRs from cloudloom:clusterApiCidrs.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    for (const cluster of resources.filter((r) => r.type === "aws:eks/cluster:Cluster")) {
      const vpc = cluster.props.vpcConfig ?? {};
      if (vpc.endpointPrivateAccess !== true)
        report(`EKS cluster ${cluster.name} has no private API endpoint; set vpcConfig.endpointPrivateAccess: true`, cluster.urn);
      // AWS defaults endpointPublicAccess to true and publicAccessCidrs to 0.0.0.0/0.
      if (vpc.endpointPublicAccess === false) continue;
      const cidrs = (vpc.publicAccessCidrs as string[] | undefined) ?? [];
      if (cidrs.length === 0 || cidrs.some((c) => OPEN.has(c)))
        report(
          `EKS cluster ${cluster.name} serves its API to the whole internet; set vpcConfig.endpointPublicAccess: false, or publicAccessCidrs from cloudloom:clusterApiCidrs`,
          cluster.urn,
        );
    }
  },
};

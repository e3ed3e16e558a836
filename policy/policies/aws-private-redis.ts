/** The gateway's Redis (ElastiCache) is never reachable from the internet. */
import type { StackValidationPolicy } from "@pulumi/policy";
import type { PlannedPolicyResource } from "../resources";

/** ElastiCache types whose network placement this policy checks. */
const CACHE_TYPES = ["aws:elasticache/replicationGroup:ReplicationGroup", "aws:elasticache/cluster:Cluster"];

const OPEN = ["0.0.0.0/0", "::/0"];

/** True when `reference` (an input naming a resource) is `resource`: its id, or its name where the id is not known yet. */
const refersTo = (reference: unknown, resource: PlannedPolicyResource, nameField?: string) =>
  reference !== undefined &&
  (reference === `${resource.name}-id` ||
    reference === resource.props.id ||
    (nameField !== undefined && resource.props[nameField] !== undefined && reference === resource.props[nameField]));

/** Where each open-to-the-internet ingress of `group` comes from, if any. */
function openIngress(group: PlannedPolicyResource, resources: readonly PlannedPolicyResource[]): string[] {
  const found: string[] = [];
  for (const rule of resources) {
    if (rule.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" && refersTo(rule.props.securityGroupId, group)) {
      const cidr = [rule.props.cidrIpv4, rule.props.cidrIpv6].find((c) => OPEN.includes(c));
      if (cidr) found.push(`${rule.name} (${cidr})`);
    }
    if (
      rule.type === "aws:ec2/securityGroupRule:SecurityGroupRule" &&
      rule.props.type === "ingress" &&
      refersTo(rule.props.securityGroupId, group)
    ) {
      const cidr = [...(rule.props.cidrBlocks ?? []), ...(rule.props.ipv6CidrBlocks ?? [])].find((c: string) => OPEN.includes(c));
      if (cidr) found.push(`${rule.name} (${cidr})`);
    }
  }
  for (const inline of (group.props.ingress as Array<{ cidrBlocks?: string[]; ipv6CidrBlocks?: string[] }> | undefined) ?? []) {
    const cidr = [...(inline.cidrBlocks ?? []), ...(inline.ipv6CidrBlocks ?? [])].find((c) => OPEN.includes(c));
    if (cidr) found.push(`its inline ingress (${cidr})`);
  }
  return found;
}

/**
 * Public subnets the plan shows: those of an internet-facing load balancer,
 * and subnets it creates that map public IPs on launch.
 */
function publicSubnets(resources: readonly PlannedPolicyResource[]): Set<string> {
  const subnets = new Set<string>();
  for (const r of resources) {
    if (r.type === "aws:lb/loadBalancer:LoadBalancer" && r.props.internal !== true)
      for (const subnet of (r.props.subnets as string[] | undefined) ?? []) subnets.add(subnet);
    if (r.type === "aws:ec2/subnet:Subnet" && r.props.mapPublicIpOnLaunch === true) subnets.add(`${r.name}-id`);
  }
  return subnets;
}

/** ElastiCache sits in private subnets, behind security groups that admit nothing from 0.0.0.0/0 or ::/0. */
export const awsPrivateRedis: StackValidationPolicy = {
  name: "cloudloom-aws-private-redis",
  description: "ElastiCache (the gateway's Redis) is not in a public subnet, and no security group of it is open to the internet.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    const groups = resources.filter((r) => r.type === "aws:ec2/securityGroup:SecurityGroup");
    const subnetGroups = resources.filter((r) => r.type === "aws:elasticache/subnetGroup:SubnetGroup");
    const exposed = publicSubnets(resources);
    for (const cache of resources.filter((r) => CACHE_TYPES.includes(r.type))) {
      const kind = cache.type === CACHE_TYPES[0] ? "replication group" : "cluster";
      for (const reference of (cache.props.securityGroupIds as unknown[] | undefined) ?? []) {
        const group = groups.find((g) => refersTo(reference, g));
        const open = group ? openIngress(group, resources) : [];
        if (group && open.length > 0)
          report(
            `ElastiCache ${kind} ${cache.name} is in security group ${group.name}, which is open to the internet through ${open.join(", ")}; admit only the gateway's tasks (referencedSecurityGroupId)`,
            cache.urn,
          );
      }
      const subnetGroup = subnetGroups.find((g) => refersTo(cache.props.subnetGroupName, g, "name"));
      const inPublic = ((subnetGroup?.props.subnetIds as string[] | undefined) ?? []).filter((subnet) => exposed.has(subnet));
      if (inPublic.length > 0)
        report(
          `ElastiCache ${kind} ${cache.name} uses public subnet(s) ${inPublic.join(", ")} (an internet-facing load balancer's, or mapping public IPs); put its subnet group in the private subnetIds of cloudloom:networks`,
          cache.urn,
        );
    }
  },
};

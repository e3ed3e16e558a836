/**
 * The VPC networks an AWS app uses, per spec region, from stack config
 * `cloudloom:networks`. Only regions that run GPU models on EKS need one:
 * Lambda and SageMaker Serverless run outside the VPC.
 */
import { z } from "zod";
import type { SpecV1 } from "../../sdk/spec";
import { TargetConfigError } from "../shared/config-error";
import { parseRegionSettings } from "../shared/object-setting";

const NetworkSchema = z
  .object({
    vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, 'must be a VPC id such as "vpc-0a1b2c3d"'),
    /** Subnets of the region (at least two Availability Zones) for the cluster, load balancer and VPC link. */
    subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/, 'must be subnet ids such as "subnet-0a1b2c3d"')).min(2),
    /** Subnets in the region's Local Zone, where its GPU nodes run. */
    zoneSubnetIds: z
      .array(z.string().regex(/^subnet-[0-9a-f]+$/, 'must be subnet ids such as "subnet-0a1b2c3d"'))
      .min(1)
      .optional(),
  })
  .strict();

/** One region's network. */
export type AwsNetwork = z.infer<typeof NetworkSchema>;

const EXAMPLE = `pulumi config set --path 'cloudloom:networks.<region>.vpcId' vpc-0a1b2c3d (and subnetIds[0], subnetIds[1])`;

/** Regions where the app runs GPU models, hence an EKS cluster. */
export function clusterRegions(spec: SpecV1): string[] {
  const regions = new Set(Object.values(spec.models).flatMap((model) => (model.pool ? model.regions : [])));
  return Object.keys(spec.regions).filter((region) => regions.has(region));
}

/** Parses `cloudloom:networks` and checks that every region that needs a network has one. */
export function parseNetworks(json: string | undefined, spec: SpecV1): Record<string, AwsNetwork> {
  const networks = parseRegionSettings("networks", json, NetworkSchema, EXAMPLE);
  for (const region of clusterRegions(spec)) {
    const network = networks[region];
    if (!network)
      throw new TargetConfigError(
        `stack config cloudloom:networks.${region} is required: region ${region} runs GPU models on EKS, which needs a VPC; ${EXAMPLE}`,
      );
    const zone = spec.regions[region].placement.aws?.zone;
    if (zone && !network.zoneSubnetIds)
      throw new TargetConfigError(
        `stack config cloudloom:networks.${region}.zoneSubnetIds is required: region ${region} runs its GPU nodes in ${zone}; give subnets in that zone (pulumi config set --path 'cloudloom:networks.${region}.zoneSubnetIds[0]' subnet-...)`,
      );
  }
  return networks;
}

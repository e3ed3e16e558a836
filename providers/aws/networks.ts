/**
 * The VPC networks an AWS app uses, per spec region, from stack config
 * `cloudloom:networks`. Regions that run GPU models on EKS need one, and so
 * does every region with backends, for its gateway (ECS Fargate behind a
 * public ALB, and ElastiCache for Redis). Lambda and SageMaker Serverless run
 * outside the VPC.
 */
import { ANY_REGION } from "../shared/object-setting";
import { isIP } from "node:net";
import { z } from "zod";
import { resolveEdgeSite, type SpecV1 } from "../../sdk/spec";
import { TargetConfigError } from "../shared/config-error";
import { parseRegionSettings } from "../shared/object-setting";

/** True for an IPv4 `address/prefix`. */
function isIpv4Cidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split("/");
  const bits = Number(prefix);
  return rest.length === 0 && isIP(address) === 4 && prefix !== "" && Number.isInteger(bits) && bits >= 0 && bits <= 32;
}

const NetworkSchema = z
  .object({
    vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, 'must be a VPC id such as "vpc-0a1b2c3d"'),
    /**
     * Private subnets of the region (at least two Availability Zones): the cluster, the model load balancer
     * and VPC link, the gateway's tasks and its Redis.
     */
    subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/, 'must be subnet ids such as "subnet-0a1b2c3d"')).min(2),
    /**
     * Public subnets (a route to an internet gateway) in at least two Availability Zones,
     * for the gateway's internet-facing load balancer.
     */
    publicSubnetIds: z
      .array(z.string().regex(/^subnet-[0-9a-f]+$/, 'must be subnet ids such as "subnet-0a1b2c3d"'))
      .min(2)
      .optional(),
    /** The VPC's IPv4 range: the gateway trusts X-Forwarded-For only from its load balancer's addresses in it. */
    cidrBlock: z.string().refine(isIpv4Cidr, 'must be the VPC\'s IPv4 range such as "10.0.0.0/16"').optional(),
    /** Subnets in the region's Local Zone, where its GPU nodes run. */
    zoneSubnetIds: z
      .array(z.string().regex(/^subnet-[0-9a-f]+$/, 'must be subnet ids such as "subnet-0a1b2c3d"'))
      .min(1)
      .optional(),
    /**
     * A Wavelength region's subnet in its zone (cloudloom creates it, with a carrier gateway), and the
     * carrier's client prefixes, which the zone's gateway maps to its own region first.
     */
    wavelength: z
      .object({
        cidrBlock: z.string().refine(isIpv4Cidr, 'must be an IPv4 range inside the VPC\'s, such as "10.0.64.0/24"'),
        carrierCidrs: z.array(z.string().refine(isIpv4Cidr, 'must be IPv4 ranges such as "203.0.113.0/24"')).default([]),
      })
      .strict()
      .optional(),
  })
  .strict();

/** One region's network. */
export type AwsNetwork = z.infer<typeof NetworkSchema>;

const EXAMPLE = `pulumi config set --path 'cloudloom:networks.<region>.vpcId' vpc-0a1b2c3d (and subnetIds[0], subnetIds[1])`;

/**
 * Regions in a Wavelength Zone with backends: everything there (functions, models, the gateway) runs on
 * the zone's self-managed EKS nodes (edge-zone.ts), since Wavelength has no Lambda, SageMaker, Fargate or load balancers.
 */
export function wavelengthRegions(spec: SpecV1): string[] {
  const placed = new Set([...Object.values(spec.functions), ...Object.values(spec.models)].flatMap((entry) => entry.regions));
  return Object.keys(spec.regions).filter(
    (region) => placed.has(region) && resolveEdgeSite(spec.regions[region].placement, "aws")?.kind === "wavelength",
  );
}

/** Regions where the app runs GPU models on a managed node group, hence an EKS cluster (Wavelength regions have their own). */
export function clusterRegions(spec: SpecV1): string[] {
  const regions = new Set(Object.values(spec.models).flatMap((model) => (model.pool ? model.regions : [])));
  const zones = new Set(wavelengthRegions(spec));
  return Object.keys(spec.regions).filter((region) => regions.has(region) && !zones.has(region));
}

/** Regions with backends (a function or a model placed there) outside Wavelength: each runs a gateway on ECS. */
export function gatewayRegions(spec: SpecV1): string[] {
  const placed = new Set([...Object.values(spec.functions), ...Object.values(spec.models)].flatMap((entry) => entry.regions));
  const zones = new Set(wavelengthRegions(spec));
  return Object.keys(spec.regions).filter((region) => placed.has(region) && !zones.has(region));
}

/** Parses `cloudloom:networks` and checks that every region that needs a network has one. */
export function parseNetworks(json: string | undefined, spec: SpecV1): Record<string, AwsNetwork> {
  const networks = parseRegionSettings("networks", json, NetworkSchema, EXAMPLE);
  // `*` is the network of every region without one of its own (offline plans put a placeholder VPC there).
  const fallback = networks[ANY_REGION];
  delete networks[ANY_REGION];
  if (fallback) for (const region of Object.keys(spec.regions)) networks[region] ??= fallback;
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
  for (const region of wavelengthRegions(spec)) {
    const zone = spec.regions[region].placement.aws!.zone!;
    if (!networks[region]?.wavelength)
      throw new TargetConfigError(
        `stack config cloudloom:networks.${region}.wavelength.cidrBlock is required: region ${region} runs in the Wavelength Zone ${zone}, where cloudloom creates a subnet (with a carrier gateway) in the region's VPC; ${EXAMPLE}, plus pulumi config set --path 'cloudloom:networks.${region}.wavelength.cidrBlock' 10.0.64.0/24`,
      );
  }
  for (const region of gatewayRegions(spec)) {
    const network = networks[region];
    const why = `region ${region} has backends, so it runs a gateway (ECS Fargate behind a public load balancer, with ElastiCache for Redis)`;
    if (!network)
      throw new TargetConfigError(
        `stack config cloudloom:networks.${region} is required: ${why}, which needs a VPC; ${EXAMPLE}, plus publicSubnetIds and cidrBlock`,
      );
    if (!network.publicSubnetIds)
      throw new TargetConfigError(
        `stack config cloudloom:networks.${region}.publicSubnetIds is required: ${why}; give public subnets in two Availability Zones (pulumi config set --path 'cloudloom:networks.${region}.publicSubnetIds[0]' subnet-...)`,
      );
    if (!network.cidrBlock)
      throw new TargetConfigError(
        `stack config cloudloom:networks.${region}.cidrBlock is required: ${why}, which trusts X-Forwarded-For only from addresses in the VPC (pulumi config set --path 'cloudloom:networks.${region}.cidrBlock' 10.0.0.0/16)`,
      );
  }
  return networks;
}

/**
 * Where the managed gateway runs on Alibaba Cloud, from stack config
 * `cloudloom:gatewayNetwork`: per spec region that runs a gateway, the VPC,
 * vSwitches and security group of its FC function and its Redis (Tair)
 * instance, the VPC's CIDR (the only addresses Redis admits), and the
 * Alibaba Cloud DNS line that sends clients to it when `cloudloom:dnsDomain`
 * is set. Every central region runs a gateway; an edge region runs one too
 * when it has these settings. The key `*` gives central regions without an
 * entry of their own a network (offline plans use it for placeholders).
 */
import { ANY_REGION } from "../shared/object-setting";
import { z } from "zod";
import type { SpecV1 } from "../../sdk/spec";
import { TargetConfigError } from "../shared/config-error";
import { parseRegionSettings } from "../shared/object-setting";

const GatewayNetworkSchema = z
  .object({
    /** The region's VPC. */
    vpcId: z.string().regex(/^vpc-[0-9a-z]+$/, 'must be a VPC id such as "vpc-gw5a1b2c3d"'),
    /** vSwitches of that VPC: the FC function uses all of them, Redis the first. */
    vswitchIds: z.array(z.string().regex(/^vsw-[0-9a-z]+$/, 'must be vSwitch ids such as "vsw-gw8a1b2c3d"')).min(1),
    /** Security group of the FC function's network interfaces in the VPC. */
    securityGroupId: z.string().regex(/^sg-[0-9a-z]+$/, 'must be a security group id such as "sg-gw4d5e6f"'),
    /** The VPC's CIDR: Redis admits connections from these addresses only. */
    vpcCidr: z
      .string()
      .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'must be a CIDR such as "172.16.0.0/12"')
      .refine((cidr) => !cidr.startsWith("0.0.0.0/"), "must be the VPC's CIDR, not every address"),
    /**
     * Alibaba Cloud DNS line (resolution line) whose resolvers get this region's gateway when
     * `cloudloom:dnsDomain` is set, such as "oversea" or "internal"; the first gateway region
     * without one answers the "default" line.
     */
    dnsLine: z.string().min(1).optional(),
  })
  .strict();

/** One region's gateway network. */
export type GatewayNetwork = z.infer<typeof GatewayNetworkSchema>;

const EXAMPLE = "pulumi config set --path 'cloudloom:gatewayNetwork.<region>.vpcId' vpc-... (and vswitchIds[0], securityGroupId, vpcCidr)";

/** Parses `cloudloom:gatewayNetwork` and checks that each region it names is one the spec declares. */
export function parseGatewayNetwork(json: string | undefined, spec: SpecV1): Record<string, GatewayNetwork> {
  const settings = parseRegionSettings("gatewayNetwork", json, GatewayNetworkSchema, EXAMPLE);
  checkGatewayNetwork(spec, settings);
  return settings;
}

/** Throws a `TargetConfigError` naming a central region without settings, or a region the spec does not declare. */
export function checkGatewayNetwork(spec: SpecV1, settings: Record<string, GatewayNetwork> | undefined): void {
  for (const region of Object.keys(settings ?? {}))
    if (region !== ANY_REGION && !spec.regions[region])
      throw new TargetConfigError(
        `stack config cloudloom:gatewayNetwork.${region} names no region of the spec; use one of ${Object.keys(spec.regions).join(", ")}`,
      );
  for (const [region, declared] of Object.entries(spec.regions))
    if (declared.kind === "central" && !settings?.[region] && !settings?.[ANY_REGION])
      throw new TargetConfigError(
        `stack config cloudloom:gatewayNetwork.${region} is required: central region ${region} runs the gateway (FC in your VPC, with its Redis); ${EXAMPLE.replace("<region>", region)}`,
      );
}

/** The regions that run a gateway: every central region, then the edge regions with settings. */
export function gatewayRegions(spec: SpecV1, settings: Record<string, GatewayNetwork> | undefined): string[] {
  const regions = Object.keys(spec.regions);
  return [
    ...regions.filter((r) => spec.regions[r].kind === "central"),
    ...regions.filter((r) => spec.regions[r].kind !== "central" && settings?.[r]),
  ];
}

/** The network of each region that runs a gateway, in gatewayRegions' order. */
export function gatewayNetworks(spec: SpecV1, settings: Record<string, GatewayNetwork> | undefined): Record<string, GatewayNetwork> {
  return Object.fromEntries(gatewayRegions(spec, settings).map((region) => [region, (settings?.[region] ?? settings?.[ANY_REGION])!]));
}

/**
 * `http(s)://<dnsRecord>.<dnsDomain>`, where clients reach their nearest
 * gateway (HTTPS with `dnsCertificateId`); undefined without `dnsDomain`.
 */
export function gatewayDomainUrl(settings: { dnsDomain?: string; dnsRecord?: string; dnsCertificateId?: string }): string | undefined {
  if (!settings.dnsDomain) return undefined;
  return `${settings.dnsCertificateId ? "https" : "http"}://${settings.dnsRecord ?? "api"}.${settings.dnsDomain}`;
}

/** The DNS line each gateway region answers: its own `dnsLine`, or "default" for the first region without one. */
export function dnsLines(regions: string[], settings: Record<string, GatewayNetwork>): Map<string, string> {
  const lines = new Map<string, string>();
  for (const region of regions) {
    const line = settings[region].dnsLine ?? ([...lines.values()].includes("default") ? undefined : "default");
    if (!line)
      throw new TargetConfigError(
        `stack config cloudloom:gatewayNetwork.${region}.dnsLine is required: another gateway region already answers the "default" line of cloudloom:dnsDomain; pulumi config set --path 'cloudloom:gatewayNetwork.${region}.dnsLine' oversea`,
      );
    if ([...lines.values()].includes(line))
      throw new TargetConfigError(
        `stack config cloudloom:gatewayNetwork.${region}.dnsLine "${line}" is already another gateway region's line`,
      );
    lines.set(region, line);
  }
  return lines;
}

export { ANY_REGION };

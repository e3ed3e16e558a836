/**
 * The gateway's stack settings on AWS: TLS, DNS, the Redis AUTH token, the
 * API keys and the metrics token. Every one is optional; a malformed one stops the program before
 * any resource, naming the key and the command that fixes it.
 */
import type * as pulumi from "@pulumi/pulumi";
import { TargetConfigError } from "../shared/config-error";

/** The settings a target reads (the shape of `TargetSettings` in providers/registry.ts). */
export interface GatewaySettingsSource {
  get(key: string): string | undefined;
  getSecret(key: string): pulumi.Output<string> | undefined;
}

/** The gateway's settings on AWS. */
export interface AwsGatewaySettings {
  /** ACM certificate of the HTTPS listener: one ARN, or one per spec region (ACM certificates are regional). */
  certificateArn?: string | Record<string, string>;
  /** Route 53 hosted zone of `domain`; with it, one latency record per gateway region. */
  dnsZoneId?: string;
  /** The name clients resolve, e.g. `api.example.com`. */
  domain?: string;
  /** The Redis AUTH token (16–128 characters); generated when absent. */
  redisAuthToken?: pulumi.Input<string>;
  /** API keys the gateway accepts, comma-separated (`CLOUDLOOM_API_KEYS`). */
  apiKeys?: pulumi.Input<string>;
  /** The token the gateways' `/metrics` and `/metrics/demand` take (16+ characters); generated once when absent (metrics-token.ts). */
  metricsToken?: pulumi.Input<string>;
  /**
   * `cloudloom:clusterApiCidrs`: the only addresses the EKS API endpoint is public to.
   * Read here with the other stack settings; `AwsApp` uses `args.clusterApiCidrs` first.
   */
  clusterApiCidrs?: string[];
}

const ACM_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/;
const ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/** ElastiCache AUTH tokens: 16–128 printable characters without spaces, `"`, `/` or `@`. */
export const REDIS_TOKEN = /^[A-Za-z0-9!&#$^<>-]{16,128}$/;

function certificateSetting(value: string | undefined): AwsGatewaySettings["certificateArn"] {
  if (value === undefined) return undefined;
  const fix = `pulumi config set cloudloom:certificateArn arn:aws:acm:<region>:<account>:certificate/<id> (or per region: pulumi config set --path 'cloudloom:certificateArn.<region>' ...)`;
  if (ACM_ARN.test(value)) return value;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
    for (const [region, arn] of Object.entries(parsed))
      if (typeof arn !== "string" || !ACM_ARN.test(arn))
        throw new TargetConfigError(`stack config cloudloom:certificateArn.${region} must be an ACM certificate ARN; ${fix}`);
    return parsed as Record<string, string>;
  }
  throw new TargetConfigError(`stack config cloudloom:certificateArn must be an ACM certificate ARN or one per region; ${fix}`);
}

const IPV4_CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;

/**
 * `cloudloom:clusterApiCidrs`: a JSON list or comma-separated IPv4 CIDRs the
 * EKS API endpoint is public to. Absent: the endpoint is private only.
 */
export function parseClusterApiCidrs(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const fix =
    "pulumi config set cloudloom:clusterApiCidrs 203.0.113.0/24,198.51.100.7/32 (or leave it unset: the API is then reachable from the VPC only)";
  let cidrs: unknown;
  try {
    cidrs = JSON.parse(value);
  } catch {
    cidrs = value.split(",").map((c) => c.trim());
  }
  if (!Array.isArray(cidrs) || cidrs.length === 0 || !cidrs.every((c) => typeof c === "string" && IPV4_CIDR.test(c)))
    throw new TargetConfigError(`stack config cloudloom:clusterApiCidrs must list IPv4 CIDRs; ${fix}`);
  const open = cidrs.find((c: string) => c.endsWith("/0"));
  if (open)
    throw new TargetConfigError(
      `stack config cloudloom:clusterApiCidrs holds ${open}, which opens the EKS API to the whole internet; name your operators' ranges, ${fix}`,
    );
  return cidrs as string[];
}

/** Reads and checks the gateway's settings. */
export function parseGatewaySettings(settings: GatewaySettingsSource): AwsGatewaySettings {
  const dnsZoneId = settings.get("dnsZoneId");
  const domain = settings.get("gatewayDomain");
  if (dnsZoneId !== undefined && !ZONE_ID.test(dnsZoneId))
    throw new TargetConfigError(
      `stack config cloudloom:dnsZoneId must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ (pulumi config set cloudloom:dnsZoneId Z...)`,
    );
  if (domain !== undefined && !DOMAIN.test(domain))
    throw new TargetConfigError(
      `stack config cloudloom:gatewayDomain must be a lower-case DNS name such as api.example.com (pulumi config set cloudloom:gatewayDomain api.example.com)`,
    );
  if ((dnsZoneId === undefined) !== (domain === undefined))
    throw new TargetConfigError(
      `stack config cloudloom:dnsZoneId and cloudloom:gatewayDomain go together: the records for ${domain ?? "the domain"} are created in the zone; set ${dnsZoneId === undefined ? "cloudloom:dnsZoneId (pulumi config set cloudloom:dnsZoneId Z...)" : "cloudloom:gatewayDomain (pulumi config set cloudloom:gatewayDomain api.example.com)"}`,
    );
  const token = settings.getSecret("redisAuthToken");
  return {
    certificateArn: certificateSetting(settings.get("certificateArn")),
    dnsZoneId,
    domain,
    redisAuthToken: token?.apply((value) => {
      if (!REDIS_TOKEN.test(value))
        throw new TargetConfigError(
          `stack config cloudloom:redisAuthToken must be 16–128 letters, digits or !&#$^<>- (ElastiCache AUTH); pulumi config set --secret cloudloom:redisAuthToken <token>`,
        );
      return value;
    }),
    apiKeys: settings.getSecret("apiKeys"),
    metricsToken: settings.getSecret("metricsToken"),
    clusterApiCidrs: parseClusterApiCidrs(settings.get("clusterApiCidrs")),
  };
}

/** The certificate of `region` (in AWS region `awsRegion`), or undefined for HTTP; a single ARN must be in that AWS region. */
export function certificateFor(setting: AwsGatewaySettings["certificateArn"], region: string, awsRegion: string): string | undefined {
  if (setting === undefined) return undefined;
  const arn = typeof setting === "string" ? setting : setting[region];
  const inRegion = arn?.split(":")[3];
  if (!arn || inRegion !== awsRegion)
    throw new TargetConfigError(
      `stack config cloudloom:certificateArn has no certificate in ${awsRegion} for region ${region}: ACM certificates are regional and every gateway serves HTTPS once one is set; give one per region with pulumi config set --path 'cloudloom:certificateArn.${region}' arn:aws:acm:${awsRegion}:<account>:certificate/<id>`,
    );
  return arn;
}

/** The gateway's Redis is encrypted in transit and at rest, requires AUTH, and the gateway connects with TLS. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { GATEWAY_ENV } from "../../providers/shared/gateway-container";

/** The Redis URL in a gateway task's settings (CLOUDLOOM_GATEWAY_CONFIG), if any. */
function gatewayRedisUrls(containerDefinitions: unknown): string[] {
  let containers: unknown;
  try {
    containers = typeof containerDefinitions === "string" ? JSON.parse(containerDefinitions) : containerDefinitions;
  } catch {
    return [];
  }
  const urls: string[] = [];
  for (const container of Array.isArray(containers) ? containers : []) {
    const config = (container?.environment as Array<{ name?: string; value?: string }> | undefined)?.find(
      (e) => e.name === GATEWAY_ENV.config,
    )?.value;
    try {
      const url = config ? JSON.parse(config)?.redis?.url : undefined;
      if (typeof url === "string") urls.push(url);
    } catch {
      // Not JSON: the gateway refuses it at start.
    }
  }
  return urls;
}

/** ElastiCache replication groups: TLS required (not "preferred"), encrypted at rest, with AUTH; gateways use rediss://. */
export const awsRedisEncrypted: StackValidationPolicy = {
  name: "cloudloom-aws-redis-encrypted",
  description:
    "ElastiCache for Redis encrypts in transit (TLS required) and at rest and requires AUTH; the gateway connects over rediss://.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    for (const r of resources) {
      if (r.type === "aws:elasticache/replicationGroup:ReplicationGroup") {
        if (r.props.transitEncryptionEnabled !== true)
          report(
            `ElastiCache replication group ${r.name} does not encrypt in transit; set transitEncryptionEnabled: true (the gateway connects with rediss://)`,
            r.urn,
          );
        else if (r.props.transitEncryptionMode === "preferred")
          report(
            `ElastiCache replication group ${r.name} has transitEncryptionMode "preferred", which still accepts plaintext; set "required"`,
            r.urn,
          );
        if (r.props.atRestEncryptionEnabled !== true && r.props.atRestEncryptionEnabled !== "true")
          report(`ElastiCache replication group ${r.name} is not encrypted at rest; set atRestEncryptionEnabled: true`, r.urn);
        if (!r.props.authToken && !r.props.authTokenWo && !(r.props.userGroupIds as unknown[] | undefined)?.length)
          report(
            `ElastiCache replication group ${r.name} requires no AUTH; set authToken from a Secrets Manager secret (or userGroupIds)`,
            r.urn,
          );
      }
      if (r.type === "aws:ecs/taskDefinition:TaskDefinition")
        for (const url of gatewayRedisUrls(r.props.containerDefinitions))
          if (!url.startsWith("rediss://"))
            report(
              `ECS task definition ${r.name} connects the gateway to Redis without TLS (${url.split("@").pop()}); use rediss://`,
              r.urn,
            );
    }
  },
};

/**
 * What the CLI shows of an Alibaba Cloud plan (its own resources' key
 * inputs, and those of the Kubernetes module on ACK), and the placeholder
 * JWT key it plans with.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { KUBERNETES_KEY_INPUTS } from "../kubernetes/describe";
import type { PlannedResource } from "../plan";
import type { PlannedAlert, TargetDescription } from "../provider";
import { ANY_REGION } from "./gateway-settings";

type Escalation = { statistics: string; comparisonOperator: string; threshold: string; times: number };

/** Each CloudMonitor rule as an alert: `<statistic>(<metric>) > <threshold>, <times> periods of <period> s in a row`. */
export function cloudMonitorAlerts(resources: readonly PlannedResource[]): PlannedAlert[] {
  return resources
    .filter((r) => r.type === "alicloud:cms/alarm:Alarm")
    .map((r) => {
      const rule = r.inputs as { name: string; metric: string; period: number; tags: Record<string, string> } & Record<string, Escalation>;
      const escalation = rule.escalationsCritical ?? rule.escalationsWarn;
      return {
        name: rule.name,
        severity: rule.tags["cloudloom.dev/severity"],
        objective: rule.tags["cloudloom.dev/objective"],
        condition: `${escalation.statistics}(${rule.metric}) ${escalation.comparisonOperator} ${escalation.threshold}, ${escalation.times} periods of ${rule.period} s in a row`,
      };
    });
}

/** The network offline plans place gateways in: ids no account has. */
export const OFFLINE_GATEWAY_NETWORK = {
  vpcId: "vpc-offlineplan",
  vswitchIds: ["vsw-offlineplan"],
  securityGroupId: "sg-offlineplan",
  vpcCidr: "10.0.0.0/8",
};

/** A public, throwaway RSA key: offline plans need a key to derive the triggers' JWKS from, never a real one. */
export const OFFLINE_PLAN_KEY_PATH = join(__dirname, "offline-plan-key.pem");

/** The Alibaba Cloud target's description. */
export const alicloudDescription: TargetDescription = {
  keyInputs: {
    ...KUBERNETES_KEY_INPUTS,
    "alicloud:fc/v3Function:V3Function": [
      ["runtime", "runtime"],
      ["memory", "memorySize"],
      ["cpu", "cpu"],
      ["gpu", "gpuConfig.gpuType"],
    ],
    "alicloud:fc/v3Alias:V3Alias": [
      ["alias", "aliasName"],
      ["version", "versionId"],
      ["weights", "additionalVersionWeight"],
    ],
    "alicloud:fc/v3Trigger:V3Trigger": [["qualifier", "qualifier"]],
    "alicloud:fc/v3ProvisionConfig:V3ProvisionConfig": [
      ["qualifier", "qualifier"],
      ["floor", "target"],
    ],
    "alicloud:cs/nodePool:NodePool": [
      ["instances", "instanceTypes"],
      ["min", "scalingConfig.minSize"],
      ["max", "scalingConfig.maxSize"],
      ["spot", "spotStrategy"],
    ],
    "alicloud:oss/bucket:Bucket": [["acl", "acl"]],
    "alicloud:kvstore/instance:Instance": [
      ["class", "instanceClass"],
      ["allowed", "securityIps"],
      ["tls", "sslEnable"],
    ],
    "alicloud:fc/v3CustomDomain:V3CustomDomain": [
      ["domain", "customDomainName"],
      ["protocol", "protocol"],
    ],
    "alicloud:dns/alidnsRecord:AlidnsRecord": [
      ["record", "rr"],
      ["line", "line"],
      ["value", "value"],
    ],
    // The dynamic resource that publishes a canaried model's FC versions (version-publisher.ts).
    "pulumi-nodejs:dynamic:Resource": [["env", "environment"]],
  },
  placeholders: () => ({
    jwtPrivateKey: readFileSync(OFFLINE_PLAN_KEY_PATH, "utf8"),
    // FC runs the gateway (and GPU models) from an image in the region's registry; a plan names a placeholder.
    runtimeImage: "registry.offline.invalid/cloudloom/runtime:0.1.0",
    // Every central region's gateway in a placeholder VPC (`*`: see gateway-settings.ts).
    gatewayNetwork: JSON.stringify({ [ANY_REGION]: OFFLINE_GATEWAY_NETWORK }),
  }),
  alerts: cloudMonitorAlerts,
};

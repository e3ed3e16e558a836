/**
 * What the CLI shows of an Alibaba Cloud plan (its own resources' key
 * inputs, and those of the Kubernetes module on ACK), and the placeholder
 * JWT key it plans with.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { KUBERNETES_KEY_INPUTS } from "../kubernetes/describe";
import type { PlannedResource } from "../plan";
import { noteByRegion, noteEach, regionCount, type EntryNotes, type Landing, type PlannedAlert, type TargetDescription } from "../provider";
import {
  ACCELERATORS,
  asyncEntries,
  asyncEntryKey,
  edgeCpuInstanceType,
  edgeGpuInstanceType,
  poolPlatform,
  resolveEdgeSite,
  type Accelerator,
  type GpuPoolSpec,
  type SpecV1,
} from "../../sdk/spec";
import { alicloudFloorCost } from "../cost";
import { ANY_REGION } from "./gateway-settings";
import { ecsGpuInstanceType } from "./instance-types";

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
    "alicloud:ens/instance:Instance": [
      ["type", "instanceType"],
      ["node", "ensRegionId"],
      ["spot", "spotStrategy"],
      ["ip", "privateIpAddress"],
    ],
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
  landings: alicloudLandings,
  floorCost: alicloudFloorCost,
  becomes: alicloudEntries,
};

/** Where each entry of each region lands on Alibaba Cloud, and why an ENS region changes it. */
export function alicloudLandings(spec: SpecV1): Landing[] {
  const landings: Landing[] = [];
  for (const [region, declared] of Object.entries(spec.regions)) {
    const placement = declared.placement.alicloud;
    if (!placement) continue;
    const site = resolveEdgeSite(declared.placement, "alicloud");
    const onEns = (entry: string, instanceType: string): Landing => ({
      region,
      entry,
      where: `runtime container on ENS instances in ${site!.id} (${instanceType})`,
      why: "ENS has no Function Compute",
    });
    let placed = false;
    for (const [fnName, fn] of Object.entries(spec.functions)) {
      if (!fn.regions.includes(region)) continue;
      placed = true;
      landings.push(
        site
          ? onEns(`function ${fnName}`, edgeCpuInstanceType(site.offers, "alicloud"))
          : { region, entry: `function ${fnName}`, where: `Function Compute in ${placement.region}` },
      );
    }
    for (const [key, model] of Object.entries(spec.models)) {
      if (!model.regions.includes(region)) continue;
      placed = true;
      const pool = model.pool ? spec.gpuPools[model.pool] : undefined;
      if (site) {
        landings.push(
          onEns(`model ${key}`, pool ? edgeGpuInstanceType(pool, site.offers, "alicloud") : edgeCpuInstanceType(site.offers, "alicloud")),
        );
        continue;
      }
      const gpu = pool
        ? (ACCELERATORS[pool.accelerator as Accelerator] as { alicloud?: { fcGpuType?: string } }).alicloud?.fcGpuType
        : undefined;
      landings.push({
        region,
        entry: `model ${key}`,
        where:
          pool && poolPlatform(pool, "alicloud") === "kubernetes"
            ? `runtime container on an ACK GPU node pool in ${placement.region}`
            : `Function Compute ${pool ? `GPU function (${gpu})` : "function"} in ${placement.region}`,
      });
    }
    if (site && placed)
      landings.push({
        region,
        entry: "gateway",
        where: `gateway container on an ENS instance with a public IP in ${site.id}`,
        why: "ENS has no Function Compute",
      });
  }
  return landings;
}

/** Function Compute's GPU type for a pool's accelerator (the catalog's). */
const fcGpuType = (pool: GpuPoolSpec) =>
  (ACCELERATORS[pool.accelerator as Accelerator] as { alicloud?: { fcGpuType?: string } }).alicloud?.fcGpuType;

/** What each entry becomes on Alibaba Cloud (the mapping table of providers/alicloud/README.md, per entry). */
function alicloudEntries(spec: SpecV1): EntryNotes {
  const serverless = (pool: GpuPoolSpec) => poolPlatform(pool, "alicloud") === "serverless";
  const queued = asyncEntries(spec);
  const onEns = (region: string) => resolveEdgeSite(spec.regions[region].placement, "alicloud") !== undefined;
  const ensInstances = "runtime container on ENS instances";
  return {
    functions: noteEach(spec.functions, (fn) =>
      noteByRegion(fn.regions, (region) => (onEns(region) ? ensInstances : "FC 3.0 function + HTTP trigger")),
    ),
    models: noteEach(spec.models, (model, key) => {
      const pool = model.pool ? spec.gpuPools[model.pool] : undefined;
      const async = queued.has(asyncEntryKey("model", key)) ? " + async invocation" : "";
      const usual = !pool
        ? "FC function (CPU)"
        : serverless(pool)
          ? `FC GPU function, ${fcGpuType(pool)}`
          : `ACK GPU pods on ${ecsGpuInstanceType(pool)}`;
      // ENS has no Function Compute and no ACK: every entry at an ENS site runs on its instances.
      return noteByRegion(model.regions, (region) => (onEns(region) ? ensInstances : usual)) + (pool && !serverless(pool) ? "" : async);
    }),
    gpuPools: noteEach(spec.gpuPools, (pool) =>
      serverless(pool)
        ? `FC gpuConfig ${fcGpuType(pool)}, ${pool.gpuMemory}`
        : `ACK node pool, ${ecsGpuInstanceType(pool)} ${regionCount(pool.regions)}`,
    ),
    scalingPolicies: noteEach(
      spec.scalingPolicies,
      (policy) =>
        `FC provision config, target tracking${policy.schedules.length ? ` + ${policy.schedules.length} scheduled action(s)` : ""}`,
    ),
    regions: noteEach(spec.regions, ({ placement: { alicloud } }) =>
      alicloud ? `${alicloud.region}${alicloud.ensRegion ? `, ENS ${alicloud.ensRegion}` : ""}` : "not placed on Alibaba Cloud",
    ),
  };
}

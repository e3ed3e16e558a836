/** What the CLI shows of an AWS plan: its own resources' key inputs, and those of the Kubernetes module on EKS. */
import { KUBERNETES_KEY_INPUTS } from "../kubernetes/describe";
import type { PlannedResource } from "../plan";
import { noteByRegion, noteEach, type EntryNotes, type Landing, type PlannedAlert, type TargetDescription } from "../provider";
import { GATEWAY_NODE_PORT } from "../kubernetes/gateway";
import { asyncEntries, asyncEntryKey, edgeCpuInstanceType, edgeGpuInstanceType, resolveEdgeSite, type SpecV1 } from "../../sdk/spec";
import { awsFloorCost } from "../cost";
import { ANY_REGION } from "../shared/object-setting";
import { gpuInstanceType } from "./instance-types";
import { gatewayRegions, wavelengthRegions } from "./networks";

/** Where offline plans put the gateways of an app whose stack sets no networks: a VPC that does not exist. */
const OFFLINE_NETWORK = {
  vpcId: "vpc-00000000",
  subnetIds: ["subnet-0000000a", "subnet-0000000b"],
  publicSubnetIds: ["subnet-000000aa", "subnet-000000bb"],
  cidrBlock: "10.0.0.0/16",
  // Wavelength regions' subnet in their zone; other regions ignore it.
  wavelength: { cidrBlock: "10.0.64.0/24", carrierCidrs: [] },
};

interface PlannedAlarm {
  name: string;
  threshold: number;
  tags: Record<string, string>;
  metricQueries: Array<{ expression?: string; returnData?: boolean; metric?: { metricName: string; stat: string; period: number } }>;
}

/** Each CloudWatch alarm as an alert: `<expression or statistic> > <threshold> over <period> s`. */
export function alarmAlerts(resources: readonly PlannedResource[]): PlannedAlert[] {
  return resources
    .filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm")
    .map((r) => {
      const alarm = r.inputs as unknown as PlannedAlarm;
      const measure = alarm.metricQueries.find((q) => q.returnData)!;
      const period = alarm.metricQueries.find((q) => q.metric)!.metric!.period;
      const metrics = alarm.metricQueries.filter((q) => q.metric).map((q) => `${q.metric!.stat}(${q.metric!.metricName})`);
      const measured = measure.expression ? `${measure.expression} [${metrics.join(", ")}]` : metrics[0];
      return {
        name: alarm.name,
        severity: alarm.tags["cloudloom.dev/severity"],
        objective: alarm.tags["cloudloom.dev/objective"],
        condition: `${measured} > ${alarm.threshold} over ${period} s`,
      };
    });
}

/** The AWS target's description. */
export const awsDescription: TargetDescription = {
  keyInputs: {
    ...KUBERNETES_KEY_INPUTS,
    "aws:lambda/function:Function": [
      ["runtime", "runtime"],
      ["memory", "memorySize"],
      ["timeout", "timeout"],
    ],
    "aws:lambda/functionUrl:FunctionUrl": [["auth", "authorizationType"]],
    "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig": [["provisioned", "provisionedConcurrentExecutions"]],
    "aws:appautoscaling/target:Target": [
      ["min", "minCapacity"],
      ["max", "maxCapacity"],
    ],
    "aws:appautoscaling/scheduledAction:ScheduledAction": [
      ["schedule", "schedule"],
      ["timezone", "timezone"],
    ],
    "aws:eks/nodeGroup:NodeGroup": [
      ["instances", "instanceTypes"],
      ["min", "scalingConfig.minSize"],
      ["max", "scalingConfig.maxSize"],
      ["capacity", "capacityType"],
    ],
    "aws:ec2/launchTemplate:LaunchTemplate": [["instance", "instanceType"]],
    "aws:autoscaling/group:Group": [
      ["min", "minSize"],
      ["max", "maxSize"],
    ],
    "aws:ec2/eip:Eip": [["borderGroup", "networkBorderGroup"]],
    "aws:ec2/subnet:Subnet": [
      ["zone", "availabilityZone"],
      ["cidr", "cidrBlock"],
    ],
    "aws:apigatewayv2/route:Route": [
      ["route", "routeKey"],
      ["auth", "authorizationType"],
    ],
  },
  // metricsToken, demandToken: a real stack generates each on its first `up`; a plan uses fixed ones, so plans compare equal.
  placeholders: () => ({
    networks: JSON.stringify({ [ANY_REGION]: OFFLINE_NETWORK }),
    metricsToken: "offline-placeholder-metrics-token",
    demandToken: "offline-placeholder-demand-token",
  }),
  alerts: alarmAlerts,
  landings: awsLandings,
  floorCost: awsFloorCost,
  becomes: awsEntries,
};

/** Where each entry of each region lands on AWS, and why an edge site changes it. */
export function awsLandings(spec: SpecV1): Landing[] {
  const landings: Landing[] = [];
  const gateways = new Set([...gatewayRegions(spec), ...wavelengthRegions(spec)]);
  for (const [region, declared] of Object.entries(spec.regions)) {
    const placement = declared.placement.aws;
    if (!placement) continue;
    const site = resolveEdgeSite(declared.placement, "aws");
    const kind = site?.kind === "wavelength" ? "Wavelength" : "the Local Zone";
    const nodes = site ? `EKS self-managed nodes in ${site.id}` : undefined;
    const onInstances = site?.onInstances ?? false;
    for (const [fnName, fn] of Object.entries(spec.functions)) {
      if (!fn.regions.includes(region)) continue;
      landings.push(
        onInstances
          ? {
              region,
              entry: `function ${fnName}`,
              where: `runtime container on ${nodes} (${edgeCpuInstanceType(site!.offers, "aws")})`,
              why: `${kind} has no Lambda`,
            }
          : { region, entry: `function ${fnName}`, where: `Lambda in ${placement.region}` },
      );
    }
    for (const [key, model] of Object.entries(spec.models)) {
      if (!model.regions.includes(region)) continue;
      const pool = model.pool ? spec.gpuPools[model.pool] : undefined;
      if (pool) {
        const instance = site ? edgeGpuInstanceType(pool, site.offers, "aws") : gpuInstanceType(pool);
        landings.push({
          region,
          entry: `model ${key}`,
          where: `runtime container on ${site?.kind === "wavelength" ? nodes : `an EKS managed node group in ${site?.id ?? placement.region}`} (${instance}, ${pool.capacity})`,
          ...(site?.kind === "wavelength" ? { why: "Wavelength takes self-managed nodes, On-Demand only" } : {}),
        });
      } else
        landings.push(
          onInstances
            ? {
                region,
                entry: `model ${key}`,
                where: `runtime container on ${nodes} (${edgeCpuInstanceType(site!.offers, "aws")})`,
                why: `${kind} has no SageMaker`,
              }
            : { region, entry: `model ${key}`, where: `SageMaker Serverless in ${placement.region}` },
        );
    }
    if (!gateways.has(region)) continue;
    landings.push(
      site?.kind === "wavelength"
        ? {
            region,
            entry: "gateway",
            where: `gateway container on the zone's nodes, on node port ${GATEWAY_NODE_PORT} of an edge node holding a carrier IP in ${site.id}${site.carrier ? ` (${site.carrier})` : ""}`,
            why: "Wavelength has no Fargate or load balancers",
          }
        : { region, entry: "gateway", where: `ECS Fargate behind a public load balancer in ${placement.region}` },
    );
  }
  return landings;
}

/** What each entry becomes on AWS (the mapping table of providers/aws/README.md, per entry). */
function awsEntries(spec: SpecV1): EntryNotes {
  const queued = asyncEntries(spec);
  // A Wavelength zone has no Lambda and no SageMaker, and sells its own GPU instance types: its entries run on the zone's nodes.
  const site = (region: string) => resolveEdgeSite(spec.regions[region].placement, "aws");
  const edgeNodes = "runtime container on EKS edge nodes";
  return {
    functions: noteEach(spec.functions, (fn) =>
      noteByRegion(fn.regions, (region) => (site(region)?.onInstances ? edgeNodes : "Lambda + Function URL")),
    ),
    models: noteEach(spec.models, (model, key) => {
      const pool = model.pool ? spec.gpuPools[model.pool] : undefined;
      const note = (region: string) => {
        const edge = site(region);
        if (pool) return `EKS GPU pods on ${edge ? edgeGpuInstanceType(pool, edge.offers, "aws") : gpuInstanceType(pool)}`;
        return edge?.onInstances ? edgeNodes : "SageMaker Serverless endpoint";
      };
      return noteByRegion(model.regions, note) + (queued.has(asyncEntryKey("model", key)) ? " + SQS job worker" : "");
    }),
    gpuPools: noteEach(spec.gpuPools, (pool) =>
      noteByRegion(pool.regions, (region) => {
        const edge = site(region);
        if (!edge) return `EKS node group, ${gpuInstanceType(pool)} ${pool.capacity}`;
        const type = edgeGpuInstanceType(pool, edge.offers, "aws");
        // Wavelength takes self-managed nodes, On-Demand only (see awsLandings).
        return edge.kind === "wavelength" ? `EKS self-managed nodes, ${type} on-demand` : `EKS node group, ${type} ${pool.capacity}`;
      }),
    ),
    scalingPolicies: noteEach(
      spec.scalingPolicies,
      (policy) => `App Auto Scaling target tracking${policy.schedules.length ? ` + ${policy.schedules.length} scheduled floor(s)` : ""}`,
    ),
    regions: noteEach(spec.regions, ({ placement: { aws } }) =>
      aws
        ? `${aws.region}${aws.zone ? `, ${aws.zoneType === "wavelength" ? "Wavelength zone" : "Local Zone"} ${aws.zone}` : ""}`
        : "not placed on AWS",
    ),
  };
}

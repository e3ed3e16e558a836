/**
 * The monthly cost of each region's always-on floor, computed from the
 * planned resources' own inputs, so that what is priced is what the stack
 * creates: node groups and Auto Scaling groups at their minimum size, single
 * instances, EKS control planes, provisioned concurrency at its configured
 * count and the function's memory, gateway tasks at their desired count and
 * task size, Redis nodes. Anything that scales from zero costs nothing here.
 * Prices come from providers/prices.ts; a resource with no price row is
 * listed as unpriced rather than guessed.
 */
import type { PlannedResource } from "./plan";
import { awsPrice, type PriceRow } from "./prices";

/** Hours in the average month (8,760 / 12), as AWS's calculator uses. */
export const HOURS_PER_MONTH = 730;

/** One priced line of a region's floor. */
export interface CostLine {
  resource: string;
  /** What is priced, e.g. `1 × t3.large × 730 h`. */
  what: string;
  usd: number;
  source: string;
}

/** A region's floor: its priced lines, its total, and what could not be priced. */
export interface RegionCost {
  region: string;
  lines: CostLine[];
  totalUsd: number;
  unpriced: string[];
}

/** A planned resource's inputs, read field by field below. */
type Inputs = Record<string, unknown>;

/** The spec region of each explicit AWS provider (its default tags name the region), by provider reference id. */
function providerRegions(resources: readonly PlannedResource[]): Map<string, { region: string; awsRegion: string }> {
  const regions = new Map<string, { region: string; awsRegion: string }>();
  for (const r of resources) {
    if (r.type !== "pulumi:providers:aws") continue;
    // Provider inputs reach the engine as JSON strings.
    const defaults = typeof r.inputs.defaultTags === "string" ? JSON.parse(r.inputs.defaultTags) : r.inputs.defaultTags;
    const tags = (defaults as { tags?: Record<string, string> } | undefined)?.tags ?? {};
    regions.set(`${r.name}-id`, { region: String(tags["cloudloom.dev/name"] ?? r.name), awsRegion: String(r.inputs.region) });
  }
  return regions;
}

/** Estimates the monthly floor of every region of an AWS plan. */
export function awsFloorCost(resources: readonly PlannedResource[]): RegionCost[] {
  const regions = providerRegions(resources);
  const byName = (type: string, name: string) => resources.find((r) => r.type === type && r.name === name)?.inputs as Inputs | undefined;
  const costs = new Map<string, RegionCost>();
  for (const r of resources) {
    const providerId = r.provider?.slice(r.provider.lastIndexOf("::") + 2);
    const place = providerId ? regions.get(providerId) : undefined;
    if (!place) continue;
    const cost = costs.get(place.region) ?? { region: place.region, lines: [], totalUsd: 0, unpriced: [] };
    costs.set(place.region, cost);
    const add = (item: string, what: string, quantity: number) => {
      if (quantity === 0) return;
      const price: PriceRow | undefined = awsPrice(item, place.awsRegion);
      if (!price) {
        cost.unpriced.push(`${r.name} (${what}: no price for ${item} in ${place.awsRegion})`);
        return;
      }
      const usd = quantity * price.usd;
      cost.lines.push({ resource: r.name, what, usd, source: `${price.source}, as of ${price.asOf}` });
      cost.totalUsd += usd;
    };
    const inputs = r.inputs as Inputs;
    switch (r.type) {
      case "aws:eks/cluster:Cluster":
        add("eks:cluster", `EKS control plane × ${HOURS_PER_MONTH} h`, HOURS_PER_MONTH);
        break;
      case "aws:eks/nodeGroup:NodeGroup": {
        const count = Number((inputs.scalingConfig as { minSize?: number } | undefined)?.minSize ?? 0);
        const type = String((inputs.instanceTypes as string[] | undefined)?.[0]);
        const spot = inputs.capacityType === "SPOT" ? " (On-Demand price: Spot varies)" : "";
        add(`ec2:${type}`, `${count} × ${type} × ${HOURS_PER_MONTH} h${spot}`, count * HOURS_PER_MONTH);
        break;
      }
      case "aws:autoscaling/group:Group": {
        const type = String(byName("aws:ec2/launchTemplate:LaunchTemplate", r.name)?.instanceType);
        const count = Number(inputs.minSize);
        add(`ec2:${type}`, `${count} × ${type} × ${HOURS_PER_MONTH} h`, count * HOURS_PER_MONTH);
        break;
      }
      case "aws:ec2/instance:Instance": {
        const type = String(inputs.instanceType ?? byName("aws:ec2/launchTemplate:LaunchTemplate", r.name)?.instanceType);
        add(`ec2:${type}`, `1 × ${type} × ${HOURS_PER_MONTH} h`, HOURS_PER_MONTH);
        break;
      }
      case "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig": {
        const fn = byName("aws:lambda/function:Function", r.name.replace(/-provisioned$/, ""));
        const gb = Number(fn?.memorySize ?? 0) / 1024;
        const count = Number(inputs.provisionedConcurrentExecutions);
        add("lambda:provisioned", `${count} × ${gb} GB × ${HOURS_PER_MONTH * 3600} s`, count * gb * HOURS_PER_MONTH * 3600);
        break;
      }
      case "aws:ecs/service:Service": {
        const task = byName("aws:ecs/taskDefinition:TaskDefinition", r.name);
        const tasks = Number(inputs.desiredCount ?? 0);
        const vcpu = Number(task?.cpu ?? 0) / 1024;
        const gb = Number(task?.memory ?? 0) / 1024;
        add("fargate:vcpu", `${tasks} tasks × ${vcpu} vCPU × ${HOURS_PER_MONTH} h`, tasks * vcpu * HOURS_PER_MONTH);
        add("fargate:memory", `${tasks} tasks × ${gb} GB × ${HOURS_PER_MONTH} h`, tasks * gb * HOURS_PER_MONTH);
        break;
      }
      case "aws:elasticache/replicationGroup:ReplicationGroup": {
        const nodes = Number(inputs.numCacheClusters ?? 1);
        const type = String(inputs.nodeType);
        add(`elasticache:${type}`, `${nodes} × ${type} × ${HOURS_PER_MONTH} h`, nodes * HOURS_PER_MONTH);
        break;
      }
    }
  }
  return [...costs.values()].filter((c) => c.lines.length > 0 || c.unpriced.length > 0);
}

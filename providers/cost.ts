/**
 * The monthly cost of each region's always-on floor, computed from the
 * planned resources' own inputs, so that what is priced is what the stack
 * creates: node groups and Auto Scaling groups at their minimum size, single
 * instances, EKS control planes, provisioned concurrency at its configured
 * count and the function's memory, gateway tasks at their desired count and
 * task size, Redis nodes. Anything that scales from zero costs nothing here.
 * On Alibaba Cloud: FC provisioned instances at their target and ENS
 * instances. Prices come from providers/prices.ts; a resource with no price
 * row is listed as unpriced rather than guessed.
 */
import type { PlannedResource } from "./plan";
import { alicloudPrice, awsPrice, ensPriceArea, FC_CU, type PriceRow } from "./prices";

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

/** Prices `quantity` of `item` for one resource: a line, or an unpriced entry when the table has no row. */
type AddCost = (item: string, what: string, quantity: number, priceRegion?: string) => void;

/**
 * The floors of a plan's regions: `placeOf` says which spec region (and price region) a resource's
 * provider serves, `priceOf` looks an item up, and `price` adds the lines of one resource.
 */
function floorCost(
  resources: readonly PlannedResource[],
  placeOf: (providerId: string) => { region: string; priceRegion: string } | undefined,
  priceOf: (item: string, region: string) => PriceRow | undefined,
  price: (r: PlannedResource, add: AddCost) => void,
): RegionCost[] {
  const costs = new Map<string, RegionCost>();
  for (const r of resources) {
    const providerId = r.provider?.slice(r.provider.lastIndexOf("::") + 2);
    const place = providerId ? placeOf(providerId) : undefined;
    if (!place) continue;
    const cost = costs.get(place.region) ?? { region: place.region, lines: [], totalUsd: 0, unpriced: [] };
    costs.set(place.region, cost);
    price(r, (item, what, quantity, priceRegion = place.priceRegion) => {
      if (quantity === 0) return;
      const row = priceOf(item, priceRegion);
      if (!row) {
        cost.unpriced.push(`${r.name} (${what}: no price for ${item} in ${priceRegion})`);
        return;
      }
      const usd = quantity * row.usd;
      cost.lines.push({ resource: r.name, what, usd, source: `${row.source}, as of ${row.asOf}` });
      cost.totalUsd += usd;
    });
  }
  return [...costs.values()].filter((c) => c.lines.length > 0 || c.unpriced.length > 0);
}

/** The inputs of the resource of `type` named `name`, if planned. */
const inputsOf = (resources: readonly PlannedResource[]) => (type: string, name: string) =>
  resources.find((r) => r.type === type && r.name === name)?.inputs as Inputs | undefined;

/** Estimates the monthly floor of every region of an AWS plan. */
export function awsFloorCost(resources: readonly PlannedResource[]): RegionCost[] {
  const regions = providerRegions(resources);
  const byName = inputsOf(resources);
  const placeOf = (id: string) => {
    const place = regions.get(id);
    return place && { region: place.region, priceRegion: place.awsRegion };
  };
  return floorCost(resources, placeOf, awsPrice, (r, add) => {
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
  });
}

/** The spec region of each explicit Alibaba Cloud provider (named `<app>-<region>`), by provider reference id. */
function alicloudProviderRegions(resources: readonly PlannedResource[]): Map<string, { region: string; priceRegion: string }> {
  const app = resources.find((r) => r.type === "cloudloom:alicloud:App")?.name;
  const regions = new Map<string, { region: string; priceRegion: string }>();
  for (const r of resources)
    if (r.type === "pulumi:providers:alicloud" && app && r.name.startsWith(`${app}-`))
      regions.set(`${r.name}-id`, { region: r.name.slice(app.length + 1), priceRegion: String(r.inputs.region) });
  return regions;
}

/**
 * Estimates the monthly floor of every region of an Alibaba Cloud plan: FC provisioned instances at their
 * target count (vCPU, memory, and the GPU when it stays allocated, as compute units at active rates: an
 * upper bound, since FC's idle mode bills less) and ENS instances by type (priced by their node's area).
 */
export function alicloudFloorCost(resources: readonly PlannedResource[]): RegionCost[] {
  const regions = alicloudProviderRegions(resources);
  const byName = inputsOf(resources);
  const seconds = HOURS_PER_MONTH * 3600;
  return floorCost(
    resources,
    (id) => regions.get(id),
    alicloudPrice,
    (r, add) => {
      const inputs = r.inputs as Inputs;
      switch (r.type) {
        case "alicloud:fc/v3ProvisionConfig:V3ProvisionConfig": {
          const fn = byName("alicloud:fc/v3Function:V3Function", r.name);
          const count = Number(inputs.target ?? 0);
          const vcpu = Number(fn?.cpu ?? 0);
          const gb = Number(fn?.memorySize ?? 0) / 1024;
          const gpuGb = inputs.alwaysAllocateGpu
            ? Number((fn?.gpuConfig as { gpuMemorySize?: number } | undefined)?.gpuMemorySize ?? 0) / 1024
            : 0;
          const cu = vcpu * FC_CU.vcpuSecond + gb * FC_CU.gbSecond + gpuGb * FC_CU.teslaGpuGbSecond;
          const gpu = gpuGb > 0 ? ` + ${gpuGb} GB GPU` : "";
          add("fc:cu", `${count} × (${vcpu} vCPU + ${gb} GB${gpu}) = ${count * cu} CU/s × ${seconds} s`, count * cu * seconds);
          break;
        }
        case "alicloud:ens/instance:Instance": {
          const type = String(inputs.instanceType);
          const count = Number(inputs.amount ?? 1);
          const spot = inputs.spotStrategy === "SpotAsPriceGo" ? " (Pay-As-You-Go price: Spot varies)" : "";
          add(
            `ens:${type}`,
            `${count} × ${type} × ${HOURS_PER_MONTH} h${spot}`,
            count * HOURS_PER_MONTH,
            ensPriceArea(String(inputs.ensRegionId)),
          );
          break;
        }
        case "alicloud:kvstore/instance:Instance": {
          const type = String(inputs.instanceClass);
          add(`kvstore:${type}`, `1 × ${type} × ${HOURS_PER_MONTH} h`, HOURS_PER_MONTH);
          break;
        }
      }
    },
  );
}

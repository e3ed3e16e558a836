/**
 * What each edge site offers, per target: the instance types it sells, Spot
 * or not, and whether the target's serverless services (Lambda and SageMaker,
 * Function Compute) run there. Validation reads it at `spec` time, so a pool
 * that asks an edge for a GPU it does not have fails before anything is
 * created; providers read it to pick instance types the site sells.
 *
 * Every row carries the date it was last checked and where its facts come
 * from. A site the table does not know can still be used: its placement then
 * declares what it offers (`placement.aws.offers`, `placement.alicloud.offers`).
 */
import { ACCELERATORS, type Accelerator, type AcceleratorMapping } from "./accelerators";

/** What one edge site offers. */
export interface EdgeOffers {
  /** Instance types sold there, e.g. `g4dn.2xlarge`, `ens.sn1.small`. */
  instanceTypes: string[];
  /** Spot (AWS) or preemptible (ENS `spotStrategy`) capacity. */
  spot: boolean;
  /**
   * Functions and CPU models placed there may run on the target's serverless services (Lambda and
   * SageMaker in the parent region, for an AWS Local Zone). False (Wavelength, ENS): they run as
   * runtime containers on the site's instances.
   */
  serverless: boolean;
}

/** The kinds of edge site. */
export type EdgeSiteKind = "wavelength" | "local-zone" | "ens";

/** One row of the table. */
export interface EdgeSite {
  target: "aws" | "alicloud";
  kind: EdgeSiteKind;
  /** The region a zone hangs off (AWS), or empty for ENS nodes (they are their own regions). */
  parentRegion: string;
  city: string;
  /** The telecom carrier whose network the site sits in. */
  carrier?: string;
  offers: EdgeOffers;
  /** When the row's facts were last checked (ISO date). */
  asOf: string;
  /** Where the facts come from. */
  source: string;
}

/** Facts about Wavelength Zones that hold in every zone (AWS Wavelength FAQ; Developer Guide "Quotas and considerations"). */
const WAVELENGTH_OFFERS: EdgeOffers = {
  instanceTypes: ["t3.medium", "t3.xlarge", "r5.2xlarge", "g4dn.2xlarge"],
  spot: false,
  serverless: false,
};
const WAVELENGTH_SOURCE =
  'AWS Wavelength FAQ (instance types; On-Demand only) and Wavelength Developer Guide "Quotas and considerations" (no Lambda, SageMaker, Fargate or ELB); zone ids from the Wavelength zone list';

/** ENS nodes: general-purpose `ens.sn1` types (Pulumi alicloud ens.Instance docs); preemptible via `spotStrategy`; no Function Compute. */
const ENS_CPU_OFFERS: EdgeOffers = { instanceTypes: ["ens.sn1.tiny", "ens.sn1.small", "ens.sn1.medium"], spot: true, serverless: false };
const ENS_SOURCE =
  "ENS DescribeEnsRegions example ids; instance types as transcribed from the @pulumi/alicloud ens.Instance docs, verify per node with DescribeAvailableResourceInfo (GPU types vary by node, declare them in offers)";

/** Edge sites by id (AWS zone id, Alibaba ENS region id). */
export const EDGE_SITES: Readonly<Record<string, EdgeSite>> = {
  "eu-central-1-wl1-ber-wlz-1": {
    target: "aws",
    kind: "wavelength",
    parentRegion: "eu-central-1",
    city: "Berlin",
    carrier: "Vodafone Germany",
    offers: WAVELENGTH_OFFERS,
    asOf: "2026-12-01",
    source: WAVELENGTH_SOURCE,
  },
  "eu-central-1-wl1-muc-wlz-1": {
    target: "aws",
    kind: "wavelength",
    parentRegion: "eu-central-1",
    city: "Munich",
    carrier: "Vodafone Germany",
    offers: WAVELENGTH_OFFERS,
    asOf: "2026-12-01",
    source: WAVELENGTH_SOURCE,
  },
  "eu-central-1-wl1-dtm-wlz-1": {
    target: "aws",
    kind: "wavelength",
    parentRegion: "eu-central-1",
    city: "Dortmund",
    carrier: "Vodafone Germany",
    offers: WAVELENGTH_OFFERS,
    asOf: "2026-12-01",
    source: WAVELENGTH_SOURCE,
  },
  "us-east-1-wl1-bos-wlz-1": {
    target: "aws",
    kind: "wavelength",
    parentRegion: "us-east-1",
    city: "Boston",
    carrier: "Verizon",
    offers: WAVELENGTH_OFFERS,
    asOf: "2026-12-01",
    source: WAVELENGTH_SOURCE,
  },
  "cn-dalian-unicom": {
    target: "alicloud",
    kind: "ens",
    parentRegion: "",
    city: "Dalian",
    carrier: "China Unicom",
    offers: ENS_CPU_OFFERS,
    asOf: "2026-12-01",
    source: ENS_SOURCE,
  },
  "cn-wuxi-telecom_unicom_cmcc-2": {
    target: "alicloud",
    kind: "ens",
    parentRegion: "",
    city: "Wuxi",
    carrier: "China Telecom, China Unicom, China Mobile",
    offers: ENS_CPU_OFFERS,
    asOf: "2026-12-01",
    source: ENS_SOURCE,
  },
};

/** The edge site a placement names on `target`: its zone (AWS) or ENS region (Alibaba Cloud), if any. */
export function edgeSiteId(
  placement: { aws?: { zone?: string }; alicloud?: { ensRegion?: string } },
  target: "aws" | "alicloud",
): string | undefined {
  return target === "aws" ? placement.aws?.zone : placement.alicloud?.ensRegion;
}

/** What a site offers: the placement's own `offers` first (it knows the site now), else the table's row. */
export function edgeOffers(siteId: string, declared: EdgeOffers | undefined): EdgeOffers | undefined {
  return declared ?? EDGE_SITES[siteId]?.offers;
}

/** The instance-type prefix of `accelerator` on `target`'s edge (`g4dn.` on AWS, `ens.gn6i.` on ENS), if mapped. */
function edgeFamily(accelerator: Accelerator, target: "aws" | "alicloud"): string | undefined {
  const mapping: AcceleratorMapping = ACCELERATORS[accelerator];
  return target === "aws" ? mapping.aws?.instanceFamily : mapping.alicloud?.ensFamily;
}

/** The instance types at a site that carry `accelerator`, through the accelerator catalog. */
export function instanceTypesWith(offers: EdgeOffers, accelerator: Accelerator, target: "aws" | "alicloud"): string[] {
  const family = edgeFamily(accelerator, target);
  return family ? offers.instanceTypes.filter((type) => type.startsWith(`${family}.`)) : [];
}

/**
 * GPUs in one instance of a GPU type, from its size: AWS's published g4dn, g5
 * and g6 shapes have 4 GPUs at 12xlarge and 24xlarge, 8 at 48xlarge and metal,
 * and 1 below; ENS GPU types carry one GPU per instance.
 */
export function gpusPerInstanceOf(instanceType: string): number {
  const size = instanceType.slice(instanceType.lastIndexOf(".") + 1);
  if (size === "12xlarge" || size === "24xlarge") return 4;
  if (size === "48xlarge" || size === "metal") return 8;
  return 1;
}

/** The accelerators a site offers, through the accelerator catalog. */
export function acceleratorsAt(offers: EdgeOffers, target: "aws" | "alicloud"): Accelerator[] {
  return (Object.keys(ACCELERATORS) as Accelerator[]).filter((a) => instanceTypesWith(offers, a, target).length > 0);
}

/** Known sites of `target` that offer `accelerator`, nearest first: same parent region, then the rest. */
export function sitesOffering(accelerator: Accelerator, target: "aws" | "alicloud", near?: string): string[] {
  const parent = near ? EDGE_SITES[near]?.parentRegion : undefined;
  return Object.entries(EDGE_SITES)
    .filter(([, site]) => site.target === target && instanceTypesWith(site.offers, accelerator, target).length > 0)
    .sort(([, a], [, b]) => Number(b.parentRegion === parent) - Number(a.parentRegion === parent))
    .map(([id]) => id);
}

/** A region's edge site on one target, as validation checked it. */
export interface ResolvedEdgeSite {
  id: string;
  kind: EdgeSiteKind;
  offers: EdgeOffers;
  carrier?: string;
  /** True when the region's functions and CPU models run as runtime containers on the site's instances (no serverless there). */
  onInstances: boolean;
}

/**
 * The edge site `placement` names on `target`, with what it offers (declared
 * offers first, then the table); undefined for a region without one, or an
 * unknown site without offers (validation refuses those).
 */
export function resolveEdgeSite(
  placement: {
    aws?: { zone?: string; zoneType?: "local-zone" | "wavelength"; offers?: EdgeOffers };
    alicloud?: { ensRegion?: string; offers?: EdgeOffers };
  },
  target: "aws" | "alicloud",
): ResolvedEdgeSite | undefined {
  const id = edgeSiteId(placement, target);
  if (!id) return undefined;
  const offers = edgeOffers(id, placement[target]?.offers);
  if (!offers) return undefined;
  const kind: EdgeSiteKind = target === "alicloud" ? "ens" : (placement.aws?.zoneType ?? EDGE_SITES[id]?.kind ?? "local-zone");
  return { id, kind, offers, carrier: EDGE_SITES[id]?.carrier, onInstances: !offers.serverless };
}

/**
 * The instance type of a GPU pool at an edge site: the site's own type with
 * the pool's accelerator and GPU count (Wavelength sells g4dn.2xlarge, not
 * g4dn.xlarge). Validation (CL_EDGE_ACCELERATOR) refuses pools a site cannot host.
 */
export function edgeGpuInstanceType(
  pool: { accelerator: string; gpusPerInstance: number },
  offers: EdgeOffers,
  target: "aws" | "alicloud",
): string {
  const types = ACCELERATORS[pool.accelerator as Accelerator] ? instanceTypesWith(offers, pool.accelerator as Accelerator, target) : [];
  const type = types.find((candidate) => gpusPerInstanceOf(candidate) === pool.gpusPerInstance);
  if (!type) throw new Error(`the edge site sells no ${pool.accelerator} instance with ${pool.gpusPerInstance} GPU(s)`);
  return type;
}

/**
 * The instance type a region's runtime containers (functions, CPU models)
 * run on at an edge site: a general-purpose `xlarge` (AWS) or `medium` (ENS)
 * if sold, leaving room for the runtime beside the node's own agents, else
 * the site's first general-purpose type.
 */
export function edgeCpuInstanceType(offers: EdgeOffers, target: "aws" | "alicloud"): string {
  const general = offers.instanceTypes.filter((type) => acceleratorsAt({ ...offers, instanceTypes: [type] }, target).length === 0);
  if (general.length === 0) throw new Error(`the edge site sells no general-purpose instance type (${offers.instanceTypes.join(", ")})`);
  const preferred = target === "aws" ? ".xlarge" : ".medium";
  return general.find((type) => type.endsWith(preferred)) ?? general[0];
}

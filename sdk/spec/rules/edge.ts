/**
 * Edge placements you can trust: every AWS zone and Alibaba ENS region a
 * placement names is checked against the edge-site table (edge-sites.ts), or
 * against the placement's own `offers` for a site the table does not know.
 * A GPU pool must find its accelerator (with its GPU count) among the site's
 * instance types, and Spot capacity must be sold there. Functions and CPU
 * models in a site without serverless services are not refused: they run as
 * runtime containers on the site's instances, and `cloudloom plan` says so.
 */
import { isAccelerator } from "../accelerators";
import {
  acceleratorsAt,
  EDGE_SITES,
  edgeOffers,
  edgeSiteId,
  gpusPerInstanceOf,
  instanceTypesWith,
  sitesOffering,
  type EdgeOffers,
} from "../edge-sites";
import type { GpuPoolSpec, RegionSpec } from "../schema";
import { closest } from "../suggest";
import { entries, type Report, type Rule } from "./report";

type EdgeTarget = "aws" | "alicloud";

/** Checks every edge site a placement names for the aws and alicloud targets. */
export const edgeRule: Rule = (spec, context, report) => {
  const target = context.target;
  if (target !== "aws" && target !== "alicloud") return;
  for (const [regionName, region] of entries(spec.regions)) {
    const siteId = edgeSiteId(region.placement, target);
    if (!siteId) continue;
    const offers = checkSite(regionName, region, siteId, target, report);
    if (!offers) continue;
    for (const [poolName, pool] of entries(spec.gpuPools))
      if (pool.regions.includes(regionName)) checkPool(poolName, pool, regionName, siteId, offers, target, report);
  }
};

/** The site's offers, after checking the placement against the table; undefined when the site is unknown. */
function checkSite(regionName: string, region: RegionSpec, siteId: string, target: EdgeTarget, report: Report): EdgeOffers | undefined {
  const base = `regions.${regionName}.placement.${target}`;
  const field = target === "aws" ? "zone" : "ensRegion";
  const declared = region.placement[target]?.offers;
  const site = EDGE_SITES[siteId];
  const offers = edgeOffers(siteId, declared);
  if (!offers) {
    const known = Object.keys(EDGE_SITES).filter((id) => EDGE_SITES[id].target === target);
    const suggestion = closest(siteId, known);
    report(
      "CL_EDGE_SITE_UNKNOWN",
      `${base}.${field}`,
      `${siteId} is not in cloudloom's edge-site table${suggestion ? `; did you mean "${suggestion}"?` : ""}, so what it offers cannot be checked`,
      `declare what it offers in ${base}.offers, e.g. offers: { instanceTypes: ["t3.xlarge", "g4dn.2xlarge"], spot: false, serverless: false }, or use a known site: ${known.join(", ")}`,
    );
    return undefined;
  }
  if (target === "aws") {
    const placement = region.placement.aws!;
    if (site && site.kind !== "ens" && placement.zoneType && placement.zoneType !== site.kind)
      report(
        "CL_EDGE_SITE_PLACEMENT",
        `${base}.zoneType`,
        `${siteId} is a ${site.kind} zone, not a ${placement.zoneType} (${site.source}, as of ${site.asOf})`,
        `set zoneType: "${site.kind}"`,
      );
    if (!site && !placement.zoneType)
      report(
        "CL_EDGE_SITE_PLACEMENT",
        `${base}.zoneType`,
        `${siteId} is not in the edge-site table, so its zone type is not known`,
        'say which it is: zoneType: "wavelength" (a carrier gateway and carrier IPs) or "local-zone"',
      );
    if (site && site.parentRegion !== placement.region)
      report(
        "CL_EDGE_SITE_PLACEMENT",
        `${base}.region`,
        `${siteId} hangs off ${site.parentRegion}, not ${placement.region}`,
        `set region: "${site.parentRegion}"`,
      );
  }
  return offers;
}

/** Checks that the site sells the pool's accelerator, with its GPU count, and its capacity type. */
function checkPool(
  poolName: string,
  pool: GpuPoolSpec,
  regionName: string,
  siteId: string,
  offers: EdgeOffers,
  target: EdgeTarget,
  report: Report,
): void {
  const path = `gpuPools.${poolName}`;
  const where = `${siteId} (region ${regionName})`;
  if (isAccelerator(pool.accelerator)) {
    const types = instanceTypesWith(offers, pool.accelerator, target);
    if (types.length === 0) {
      const nearby = sitesOffering(pool.accelerator, target, siteId);
      const here = acceleratorsAt(offers, target);
      report(
        "CL_EDGE_ACCELERATOR",
        `${path}.accelerator`,
        `${where} offers no ${pool.accelerator}; it sells ${offers.instanceTypes.join(", ")}`,
        [
          nearby.length > 0 ? `place the pool's edge in a site that offers it: ${nearby.join(", ")}` : undefined,
          here.length > 0
            ? `use an accelerator ${siteId} offers: ${here.join(", ")}`
            : `${siteId} offers no GPUs: run the region's models on CPU`,
          `or take region ${regionName} out of the pool's regions`,
        ]
          .filter(Boolean)
          .join("; "),
      );
    } else if (!types.some((type) => gpusPerInstanceOf(type) === pool.gpusPerInstance)) {
      const counts = [...new Set(types.map(gpusPerInstanceOf))].sort();
      report(
        "CL_EDGE_ACCELERATOR",
        `${path}.gpusPerInstance`,
        `${where} sells ${pool.accelerator} only as ${types.join(", ")}, with ${counts.join(" or ")} GPU(s) per instance, not ${pool.gpusPerInstance}`,
        `set gpusPerInstance to ${counts.join(" or ")}`,
      );
    }
  }
  if (pool.capacity === "spot" && !offers.spot) {
    const withSpot = Object.entries(EDGE_SITES)
      .filter(([, site]) => site.target === target && site.offers.spot)
      .map(([id]) => id);
    report(
      "CL_EDGE_SPOT",
      `${path}.capacity`,
      `${where} sells no Spot capacity${EDGE_SITES[siteId] ? ` (${EDGE_SITES[siteId].source})` : ""}`,
      `set capacity: "on-demand"${withSpot.length > 0 ? `, or place the edge in a site with Spot: ${withSpot.join(", ")}` : ""}`,
    );
  }
}

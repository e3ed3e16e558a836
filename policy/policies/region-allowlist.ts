/** Data residency: every region the app is placed in is on the allowlist. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { appSpecs, reportAt } from "../resources";

/** Config of the region allowlist; an empty list allows every region. */
export interface RegionAllowlistConfig {
  allowedRegions: string[];
}

/** Cloud regions (AWS, Alibaba Cloud placements and providers) must be allowed. */
export const regionAllowlist: StackValidationPolicy = {
  name: "cloudloom-region-allowlist",
  description: "Every cloud region the app is placed in is in allowedRegions (data residency). An empty list allows all.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { allowedRegions: { type: "array", items: { type: "string" }, default: [] } } },
  validateStack: (args, report) => {
    const { allowedRegions } = args.getConfig<RegionAllowlistConfig>();
    if (allowedRegions.length === 0) return;
    for (const { resource, spec } of appSpecs(args.resources)) {
      for (const [name, region] of Object.entries(spec.regions)) {
        for (const cloud of [region.placement.aws?.region, region.placement.alicloud?.region]) {
          if (cloud && !allowedRegions.includes(cloud))
            reportAt(
              report,
              `region ${name} is placed in ${cloud}, which is not in allowedRegions (${allowedRegions.join(", ")}); move it or extend the allowlist`,
              resource.urn,
              `regions.${name}`,
            );
        }
      }
    }
    for (const r of args.resources) {
      if (
        (r.type === "pulumi:providers:aws" || r.type === "pulumi:providers:alicloud") &&
        r.props.region &&
        !allowedRegions.includes(r.props.region)
      ) {
        report(`provider ${r.name} targets ${r.props.region}, which is not in allowedRegions`, r.urn);
      }
    }
  },
};

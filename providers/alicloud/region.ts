/** Regions on Alibaba Cloud: an explicit provider per declared region (resources carry no region), and the artifacts of its models. */
import { Provider } from "@pulumi/alicloud/provider";
import { storeRegionArtifacts } from "../shared/artifacts";
import { resourceName } from "../shared/naming";
import { OssArtifactStore } from "./artifacts";
import type { AlicloudContext } from "./context";

/** The regions step: one `alicloud.Provider` per region, and its artifact bucket. */
export function placeRegions(context: AlicloudContext): void {
  const { spec, args, name, parent } = context;
  for (const [regionName, region] of Object.entries(spec.regions)) {
    const alicloudRegion = region.placement.alicloud!.region;
    const provider = new Provider(resourceName(name, regionName), { region: alicloudRegion }, { parent });
    context.regions.set(regionName, { provider, alicloudRegion });
    const keys = Object.keys(spec.models).filter((key) => spec.models[key].regions.includes(regionName));
    storeRegionArtifacts(
      spec,
      regionName,
      keys,
      context.artifacts,
      () =>
        new OssArtifactStore(
          resourceName(name, regionName, "artifacts"),
          spec.app,
          args.root,
          { parent, provider },
          context.logBucket(regionName),
        ),
    );
  }
}

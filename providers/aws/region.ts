/** Regions on AWS: an explicit provider per declared region, and the artifacts of the models served there. */
import { Provider } from "@pulumi/aws/provider";
import { storeRegionArtifacts } from "../shared/artifacts";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import { ArtifactStore } from "./artifacts";
import { accessLogsIn, modelsIn, type AwsContext } from "./context";

/** The regions step: one `aws.Provider` per region, tagging everything with the region, and its artifact bucket. */
export function placeRegions(context: AwsContext): void {
  const { spec, args, name, parent } = context;
  for (const [regionName, region] of Object.entries(spec.regions)) {
    const awsRegion = region.placement.aws!.region;
    const provider = new Provider(
      resourceName(name, regionName),
      { region: awsRegion as never, defaultTags: { tags: entryLabels(spec.app, "region", regionName) } },
      { parent },
    );
    context.regions.set(regionName, { provider, awsRegion });
    const keys = [...modelsIn(spec, regionName, false), ...modelsIn(spec, regionName, true)];
    storeRegionArtifacts(
      spec,
      regionName,
      keys,
      context.artifacts,
      () =>
        new ArtifactStore(resourceName(name, regionName, "artifacts"), spec.app, args.root, {
          parent,
          provider,
          accessLogs: accessLogsIn(context, regionName),
        }),
    );
  }
}

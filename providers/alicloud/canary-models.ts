/** Models whose versions a route splits on Function Compute: one function per region, an FC version per model version, an alias per route. */
import * as pulumi from "@pulumi/pulumi";
import { getAccountOutput } from "@pulumi/alicloud";
import { fcCanaries, type FcCanary, type SpecV1 } from "../../sdk/spec";
import { recordEndpoint } from "../shared/endpoints";
import { dnsSafe, resourceName } from "../shared/naming";
import { withJwt, type AlicloudContext } from "./context";
import { FcModelFamily, routeAlias } from "./model-family";

/** By model name: the versions (keys, in version order) that FC aliases split, and the routes that split them. */
export function modelFamilies(spec: SpecV1): Map<string, { keys: string[]; canaries: FcCanary[] }> {
  const families = new Map<string, { keys: string[]; canaries: FcCanary[] }>();
  for (const canary of fcCanaries(spec)) {
    const family = families.get(canary.model) ?? { keys: [], canaries: [] };
    family.canaries.push(canary);
    family.keys = [...new Set([...family.keys, ...Object.keys(canary.weights).map((version) => `${canary.model}@${version}`)])].sort(
      (a, b) => a.localeCompare(b, undefined, { numeric: true }),
    );
    families.set(canary.model, family);
  }
  return families;
}

/**
 * A model whose versions a route splits on FC: one function per region
 * serving them all, a published version each, an alias per splitting route.
 * Pinned calls reach a version's own trigger; the route's calls the alias's.
 */
export function placeModelFamily(context: AlicloudContext, model: string, family: { keys: string[]; canaries: FcCanary[] }): void {
  const { spec, args, name, parent } = context;
  const versions = family.keys.map((key) => spec.models[key]);
  for (const region of versions[0].regions) {
    const { provider, alicloudRegion } = context.regions.get(region)!;
    const functionName = resourceName(name, dnsSafe(model), region);
    const account = getAccountOutput({ provider, parent });
    const served = new FcModelFamily(
      functionName,
      {
        app: spec.app,
        region,
        versions,
        pool: versions[0].pool ? spec.gpuPools[versions[0].pool] : undefined,
        scaling: versions[0].scaling ? spec.scalingPolicies[versions[0].scaling] : undefined,
        artifacts: Object.fromEntries(versions.map((m) => [m.version, context.artifacts.get(`${m.name}@${m.version}/${region}`)!])),
        image: args.runtimeImage!.replaceAll("{region}", alicloudRegion),
        ossEndpoint: `oss-${alicloudRegion}-internal.aliyuncs.com`,
        fcApiEndpoint: pulumi.interpolate`${account.id}.${alicloudRegion}.fc.aliyuncs.com`,
        canaries: family.canaries,
        jwks: context.jwks,
      },
      { parent, provider },
    );
    for (const version of versions) {
      const endpoint = withJwt(served.versionUrls[version.version], `${functionName}-v${version.version}`);
      context.models.set(`${model}@${version.version}/${region}`, endpoint);
      recordEndpoint(context.endpoints.models, `${model}@${version.version}`, region, endpoint);
    }
    for (const canary of family.canaries)
      recordEndpoint(
        (context.endpoints.canaries ??= {}),
        canary.route,
        region,
        withJwt(served.routeUrls[canary.route], `${functionName}-${routeAlias(canary.route)}`),
      );
  }
}

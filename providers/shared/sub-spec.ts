/**
 * A part of a spec that one server fleet runs: some model versions in one
 * region, with only the pools and policies they use. Model servers read it
 * (SageMaker containers, EKS pods), so unrelated edits to the app never
 * change, and never redeploy, them.
 */
import type { PlacementSpec, SpecV1 } from "../../sdk/spec";

/**
 * The spec of `modelKeys`, placed in `region` only, with `placement` as that
 * region's placement. Objectives are left out: the servers do not read them,
 * and the app's target alerts on them (EKS and ACK clusters get no rules).
 */
export function modelsSpec(spec: SpecV1, modelKeys: string[], region: string, placement: PlacementSpec): SpecV1 {
  const models = Object.fromEntries(
    modelKeys.map((key) => {
      const model = { ...spec.models[key], regions: [region] };
      delete model.objectives;
      return [key, model];
    }),
  );
  const used = (field: "pool" | "scaling") => new Set(Object.values(models).flatMap((m) => (m[field] ? [m[field]] : [])));
  const pools = used("pool");
  const policies = used("scaling");
  return {
    apiVersion: spec.apiVersion,
    app: spec.app,
    regions: { [region]: { ...spec.regions[region], placement } },
    gpuPools: Object.fromEntries(
      Object.entries(spec.gpuPools)
        .filter(([name]) => pools.has(name))
        .map(([name, pool]) => [name, { ...pool, regions: [region] }]),
    ),
    scalingPolicies: Object.fromEntries(Object.entries(spec.scalingPolicies).filter(([name]) => policies.has(name))),
    models,
    functions: {},
    routes: {},
  };
}

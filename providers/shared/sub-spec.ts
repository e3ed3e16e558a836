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

/**
 * The part of a spec one edge region runs by itself: its functions and the
 * models placed there (or called by those functions), placed in `region` only
 * with `placement`, and the routes to them. An edge cluster that serves a
 * whole region (a Wavelength Zone) deploys it, gateway included.
 */
export function regionSpec(spec: SpecV1, region: string, placement: PlacementSpec): SpecV1 {
  const functionNames = Object.keys(spec.functions).filter((name) => spec.functions[name].regions.includes(region));
  const keys = new Set([
    ...Object.keys(spec.models).filter((key) => spec.models[key].regions.includes(region)),
    ...functionNames.flatMap((name) => spec.functions[name].models),
  ]);
  const models = modelsSpec(spec, [...keys].sort(), region, placement);
  const served = (target: SpecV1["routes"][string]["target"]) =>
    target.kind === "function"
      ? functionNames.includes(target.name)
      : Object.keys(target.weights).every((version) => keys.has(`${target.name}@${version}`));
  return {
    ...models,
    functions: Object.fromEntries(functionNames.map((name) => [name, { ...spec.functions[name], regions: [region] }])),
    scalingPolicies: Object.fromEntries(
      Object.entries(spec.scalingPolicies).filter(
        ([name]) => name in models.scalingPolicies || functionNames.some((fn) => spec.functions[fn].scaling === name),
      ),
    ),
    routes: Object.fromEntries(Object.entries(spec.routes).filter(([, route]) => served(route.target))),
  };
}

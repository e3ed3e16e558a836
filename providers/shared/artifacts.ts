/** What every cloud's artifact store does for a region: one upload per model version served there. */
import type { ModelSpec, SpecV1 } from "../../sdk/spec";
import { modelsSpec } from "./sub-spec";

/** A cloud's artifact store: uploads one model version's file and the spec its servers read. */
export interface ArtifactStorage<A> {
  put(model: ModelSpec, servingSpec: SpecV1): A;
}

/**
 * Uploads the artifacts of the models `keys` in `region` into `artifacts`
 * (by `<key>/<region>`), each beside a spec of that model in that region
 * only. The store is created only for a region that serves a model.
 */
export function storeRegionArtifacts<A>(
  spec: SpecV1,
  region: string,
  keys: string[],
  artifacts: Map<string, A>,
  createStore: () => ArtifactStorage<A>,
): void {
  if (keys.length === 0) return;
  const store = createStore();
  const { placement } = spec.regions[region];
  for (const key of keys) artifacts.set(`${key}/${region}`, store.put(spec.models[key], modelsSpec(spec, [key], region, placement)));
}

/**
 * Routes whose version split Function Compute does itself on alicloud: a
 * model route with two or more weighted versions, not sticky (an FC alias
 * picks per call), every version served by FC (not on an ACK pool), and the
 * versions alike in pool, memory, scaling policy and regions, because one FC
 * function serves them all, one published version each, and an alias per
 * route carries its weights. Any other split stays with the gateway, and so
 * does every route with a rollout: the gateway moves its weights step by step
 * and judges each step on what it observes (docs/rollouts.md).
 */
import type { SpecV1 } from "./schema";
import { poolPlatform } from "./targets";

/** One route split by an FC alias. */
export interface FcCanary {
  route: string;
  /** The model's name. */
  model: string;
  /** Percent per model version, as the route declares it. */
  weights: Record<string, number>;
}

/** The routes of `spec` that an FC alias splits on alicloud. */
export function fcCanaries(spec: SpecV1): FcCanary[] {
  return Object.entries(spec.routes).flatMap(([route, { target, rollout }]) => {
    if (target.kind !== "model" || target.sticky || rollout) return [];
    const versions = Object.keys(target.weights).filter((version) => target.weights[version] > 0);
    const models = versions.map((version) => spec.models[`${target.name}@${version}`]);
    if (versions.length < 2 || models.some((model) => !model)) return [];
    const onFc = models.every((model) => !model.pool || poolPlatform(spec.gpuPools[model.pool] ?? {}, "alicloud") === "serverless");
    const shape = (model: (typeof models)[number]) => JSON.stringify([model.pool, model.memory, model.scaling, [...model.regions].sort()]);
    const alike = new Set(models.map(shape)).size === 1;
    return onFc && alike ? [{ route, model: target.name, weights: Object.fromEntries(versions.map((v) => [v, target.weights[v]])) }] : [];
  });
}

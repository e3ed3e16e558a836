/**
 * The provider contract. Every target materializes the same spec sections,
 * in the same order, with one step per section. The step names are derived
 * from Spec v1's sections, so adding a section to the spec fails to compile
 * in every provider until each one handles it.
 */
import type { SpecV1 } from "../sdk/spec";
import type { PlannedResource } from "./plan";

/** The sections of Spec v1 a provider materializes. */
export type SpecSection = Exclude<keyof SpecV1, "apiVersion" | "app">;

/** The step that handles each section; routes are served by the gateway step. */
export type StepName<S extends SpecSection = SpecSection> = S extends "routes" ? "gateway" : S;

/** One method per spec section. `C` is the provider's own build context. */
export type ProviderSteps<C> = { [S in SpecSection as StepName<S>]: (context: C) => void };

/** The order steps run in: each may use what earlier ones prepared. */
export const STEP_ORDER: ReadonlyArray<StepName> = ["regions", "gpuPools", "scalingPolicies", "models", "functions", "gateway"];

/** Runs a provider's steps in order. */
export function runSteps<C>(steps: ProviderSteps<C>, context: C): void {
  for (const step of STEP_ORDER) steps[step](context);
}

/**
 * What a target tells tools about its resources, so that the CLI needs no
 * knowledge of any cloud: which inputs a plan shows, how it plans without
 * stack config, and what it renders for `plan --out`.
 */
export interface TargetDescription {
  /** Per resource type, the inputs a plan shows: a label and a path (dots separate keys; `\.` is a dot inside one). */
  keyInputs: Record<string, Array<[label: string, path: string]>>;
  /** Values of the settings the target requires, for plans whose stack config has none. */
  placeholders(): Record<string, string>;
  /** The planned resources as files a user could apply themselves, for targets that have such (Kubernetes manifests). */
  manifests?(resources: readonly PlannedResource[]): string;
}

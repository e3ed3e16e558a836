/**
 * The provider contract. Every target materializes the same spec sections,
 * in the same order, with one step per section. The step names are derived
 * from Spec v1's sections, so adding a section to the spec fails to compile
 * in every provider until each one handles it.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { EndpointsMap, SpecV1 } from "../sdk/spec";
import type { PlannedResource } from "./plan";

/** What an app on any target gives its stack: the endpoints map the gateway reads, and the gateway's public URL. */
export interface AppOutputs {
  endpoints: pulumi.Output<EndpointsMap>;
  gatewayUrl: pulumi.Output<string>;
}

/** The sections of Spec v1 a provider materializes. */
export type SpecSection = Exclude<keyof SpecV1, "apiVersion" | "app">;

/** The step that handles each section; routes are served by the gateway step. */
export type StepName<S extends SpecSection = SpecSection> = S extends "routes" ? "gateway" : S;

/**
 * Steps that no section names: `queues` places the queue of every
 * asynchronous entry (sdk/spec/async.ts), which the models and functions
 * steps then attach their workers to and the gateway step submits to.
 */
export type DerivedStep = "queues";

/** One method per spec section, and per derived step. `C` is the provider's own build context. */
export type ProviderSteps<C> = { [S in SpecSection as StepName<S>]: (context: C) => void } & { [D in DerivedStep]: (context: C) => void };

/** The order steps run in: each may use what earlier ones prepared. */
export const STEP_ORDER: ReadonlyArray<StepName | DerivedStep> = [
  "regions",
  "gpuPools",
  "scalingPolicies",
  "queues",
  "models",
  "functions",
  "gateway",
];

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
  /** What those files leave to fill in: the secret values an offline plan does not have. */
  fillIns?(resources: readonly PlannedResource[]): FillIn[];
  /** Every model artifact the deployment will fetch, with its sha256. */
  artifacts?(resources: readonly PlannedResource[]): ArtifactFetch[];
}

/** A value `plan --out` leaves to fill in: where it goes, and the stack setting it comes from. */
export interface FillIn {
  kind: string;
  namespace?: string;
  name: string;
  /** The key (of a Secret's `stringData`) or the field path holding the placeholder. */
  key: string;
  /** The stack setting its value comes from. */
  source: string;
}

/** A model artifact a deployment fetches, and the workloads that fetch it. */
export interface ArtifactFetch {
  url: string;
  sha256: string;
  workloads: string[];
}

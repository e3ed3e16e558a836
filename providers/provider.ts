/**
 * The provider contract. Every target materializes the same spec sections,
 * in the same order, with one step per section. The step names are derived
 * from Spec v1's sections, so adding a section to the spec fails to compile
 * in every provider until each one handles it.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { EndpointsMap, SpecV1 } from "../sdk/spec";
import type { RegionCost } from "./cost";
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
 * Steps for what the spec states across its sections rather than in one:
 * `queues` places the queue of every asynchronous entry (sdk/spec/async.ts),
 * which the models and functions steps then attach their workers to and the
 * gateway step submits to; `alerts` turns the objectives of routes, functions
 * and models into alert rules.
 */
export type CrossSectionStep = "queues" | "alerts";

/** One method per spec section, and per cross-section concept. `C` is the provider's own build context. */
export type ProviderSteps<C> = { [S in SpecSection as StepName<S>]: (context: C) => void } & Record<CrossSectionStep, (context: C) => void>;

/** The order steps run in: each may use what earlier ones prepared (alerts watch what every other step made). */
export const STEP_ORDER: ReadonlyArray<StepName | CrossSectionStep> = [
  "regions",
  "gpuPools",
  "scalingPolicies",
  "queues",
  "models",
  "functions",
  "gateway",
  "alerts",
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
  /** The alerts the planned resources raise (alarms, alert rules), one per rule or alarm. */
  alerts?(resources: readonly PlannedResource[]): PlannedAlert[];
  /** Per region, where each function, model and the gateway land on this target, and why. */
  landings?(spec: SpecV1): Landing[];
  /** Per region, the monthly cost of the always-on floor of the planned resources (providers/cost.ts). */
  floorCost?(resources: readonly PlannedResource[]): RegionCost[];
  /** Per section and entry, one line saying what the entry becomes on this target (`cloudloom graph --target`). */
  becomes?(spec: SpecV1): EntryNotes;
}

/** One alert a plan would create: its name, severity, the objective it judges and when it fires. */
export interface PlannedAlert {
  name: string;
  severity: string;
  /** Spec path of the objective, e.g. `routes.POST /v1/classify.objectives.0`. */
  objective: string;
  /** When it fires, in the target's own terms (a PromQL expression, a metric and threshold). */
  condition: string;
}

/** Where one entry of a region lands on a target, and why there. */
export interface Landing {
  region: string;
  /** `function <name>`, `model <key>` or `gateway`. */
  entry: string;
  /** What runs it, and where. */
  where: string;
  /** Why there, when it is not the target's usual place (e.g. "Wavelength has no Lambda"). */
  why?: string;
}

/** Per spec section, per entry name, a short line of what the entry becomes on a target (sdk/graph's EntryNotes). */
export type EntryNotes = Partial<Record<SpecSection, Record<string, string>>>;

/** `describe(entry)` for every entry of `record`. */
export function noteEach<T>(record: Record<string, T>, describe: (entry: T, name: string) => string): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([name, entry]) => [name, describe(entry, name)]));
}

/** "×2 regions", "×1 region": how many regions an entry is placed in. */
export const regionCount = (regions: readonly string[]): string => `×${regions.length} region${regions.length === 1 ? "" : "s"}`;

/**
 * What an entry placed in `regions` becomes, when that depends on the region
 * (an edge site with no serverless offer runs it on instances): each distinct
 * `note` with the count of its regions, in the order the regions come,
 * e.g. "Lambda + Function URL ×1 region + runtime container on EKS edge nodes ×1 region".
 */
export function noteByRegion(regions: readonly string[], note: (region: string) => string): string {
  const groups = new Map<string, string[]>();
  for (const region of regions) {
    const text = note(region);
    groups.set(text, [...(groups.get(text) ?? []), region]);
  }
  return [...groups].map(([text, grouped]) => `${text} ${regionCount(grouped)}`).join(" + ");
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

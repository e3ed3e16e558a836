/**
 * `App`: the object a user declares everything on. It holds no module-level
 * state, so any number of apps can live in one process.
 *
 * @example
 * const app = new App("support-desk", { root: __dirname });
 * const central = app.region("central", { kind: "central", placement: { aws: { region: "eu-west-1" } } });
 * const classify = app.function("classify", { handler: "functions/classify.ts", regions: [central] });
 * app.route("POST /v1/classify", { target: classify, rateLimit: { requests: 100, per: "1 minute" } });
 * const spec = app.toSpec({ target: "aws" }); // throws SpecError listing every problem
 */
import {
  Declared,
  Model,
  type Fn,
  type FunctionArgs,
  type GpuPool,
  type GpuPoolArgs,
  type ModelArgs,
  type Region,
  type RegionArgs,
  type RouteArgs,
  type ScalingPolicy,
  type ScalingPolicyArgs,
} from "./declarations";
import { handlerProblems } from "./check-handlers";
import { Normalizer } from "./normalize";
import { API_VERSION, canonicalize, SpecError, validate, type Problem, type SpecV1, type ValidateOptions } from "./spec";

/** Options of an app. */
export interface AppOptions {
  /** Directory that handler modules and model artifacts are relative to. @default process.cwd() */
  root?: string;
  /**
   * Also check what the app's files hold: handler modules load and export
   * their handler, and ONNX graphs match their models' signatures.
   * `loadApp()` (and so every `cloudloom` command) turns this on.
   * @default false
   */
  inspectFiles?: boolean;
}

type Section = "regions" | "gpuPools" | "scalingPolicies" | "models" | "functions" | "routes";

/** Collects the declarations of one application. */
export class App {
  /** Directory that handler modules and model artifacts are relative to. */
  readonly root: string;
  private readonly normalizer = new Normalizer(this);
  private readonly draft: Omit<SpecV1, "apiVersion" | "app"> = {
    regions: {},
    gpuPools: {},
    scalingPolicies: {},
    models: {},
    functions: {},
    routes: {},
  };

  /**
   * Whether `problems()` and `toSpec()` also load each handler module and
   * read each model's ONNX graph (see {@link AppOptions.inspectFiles}).
   */
  inspectFiles: boolean;

  constructor(
    /** The app's name; it prefixes every resource on every target. */
    readonly name: string,
    options: AppOptions = {},
  ) {
    this.root = options?.root ?? process.cwd();
    this.inspectFiles = options?.inspectFiles ?? false;
  }

  /** Declares a region. */
  region(name: string, args: RegionArgs): Region {
    this.add("regions", name, () => this.normalizer.region(`regions.${name}`, args));
    return new Declared(this, "region", name);
  }

  /** Declares a GPU pool. */
  gpuPool(name: string, args: GpuPoolArgs): GpuPool {
    this.add("gpuPools", name, () => this.normalizer.gpuPool(`gpuPools.${name}`, args));
    return new Declared(this, "gpuPool", name);
  }

  /** Declares a scaling policy. */
  scalingPolicy(name: string, args: ScalingPolicyArgs): ScalingPolicy {
    this.add("scalingPolicies", name, () => this.normalizer.scalingPolicy(`scalingPolicies.${name}`, args));
    return new Declared(this, "scalingPolicy", name);
  }

  /** Declares one immutable version of a model; a new version is a new call. */
  model(name: string, args: ModelArgs): Model {
    const key = `${name}@${args?.version}`;
    this.add("models", key, () => this.normalizer.model(name, `models.${key}`, args));
    return new Model(this, name, String(args?.version));
  }

  /** Declares a function. */
  function(name: string, args: FunctionArgs): Fn {
    this.add("functions", name, () => this.normalizer.function(`functions.${name}`, args));
    return new Declared(this, "function", name);
  }

  /** Declares a route, keyed `"<METHOD> /path"`. */
  route(key: string, args: RouteArgs): void {
    this.add("routes", key, () => this.normalizer.route(`routes.${key}`, args, (fn) => this.draft.functions[fn]?.timeout));
  }

  /** The spec as declared, in canonical form, without validation. */
  toDraft(): SpecV1 {
    return canonicalize({ apiVersion: API_VERSION, app: this.name, ...this.draft });
  }

  /**
   * Every problem of this app: declaration problems, then the spec's, then
   * (with `inspectFiles` and a root) those of its handler modules. Pass
   * `root: undefined` to skip every check that reads a file.
   */
  problems(options: ValidateOptions = {}): Problem[] {
    const settings: ValidateOptions = { root: this.root, inspectFiles: this.inspectFiles, ...options };
    const draft = this.toDraft();
    const result = validate(draft, settings);
    const handlers = settings.inspectFiles && settings.root !== undefined ? handlerProblems(settings.root, draft.functions) : [];
    return [...this.normalizer.problems, ...result.problems, ...handlers];
  }

  /**
   * The validated, canonical Spec v1 of this app.
   * @throws SpecError listing every problem, when there are any.
   */
  toSpec(options: ValidateOptions = {}): SpecV1 {
    const problems = this.problems(options);
    if (problems.length > 0) throw new SpecError(this.name, problems);
    return this.toDraft();
  }

  private add(section: Section, key: string, build: () => unknown): void {
    const entries = this.draft[section] as Record<string, unknown>;
    if (Object.hasOwn(entries, key)) {
      this.normalizer.problems.push({
        code: "CL_DUPLICATE_NAME",
        path: `${section}.${key}`,
        message: `${section} "${key}" is declared twice`,
        fix: `give the second one another name${section === "models" ? ", or a new version" : ""}`,
      });
      return;
    }
    entries[key] = build();
  }
}

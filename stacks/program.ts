/**
 * The stack program as a function: `stacks/index.ts` runs it under
 * `pulumi up`, and `cloudloom plan` runs the very same function under
 * Pulumi's mock runtime.
 */
import type * as pulumi from "@pulumi/pulumi";
import { resolve } from "node:path";
import { loadApp, SpecError } from "../sdk";
import { factoryFor, type AppOutputs, type TargetSettings } from "../providers/registry";

/** Stack settings: `cloudloom:target`, `cloudloom:app`, and the target's own. */
export interface StackSettings extends TargetSettings {
  target: string;
  /** Path of the app module, relative to `projectDir`. */
  app: string;
  /**
   * The directory `app` is relative to: the user's Pulumi project. Defaults to
   * the folder above this file (the repository root, or the package's `dist/`,
   * which `cloudloom plan` computes its relative paths against).
   */
  projectDir?: string;
}

/** Validates the app for the target, then builds it; returns its outputs (the endpoints map and the gateway's URL). */
export function runStack(settings: StackSettings, opts?: pulumi.ComponentResourceOptions): AppOutputs {
  const factory = factoryFor(settings.target);
  const app = loadApp(resolve(settings.projectDir ?? resolve(__dirname, ".."), settings.app));
  const problems = app.problems({ target: settings.target });
  if (problems.length > 0) throw new SpecError(app.name, problems);
  return factory({ spec: app.toDraft(), root: app.root }, settings, opts);
}

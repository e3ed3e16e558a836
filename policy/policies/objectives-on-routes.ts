/**
 * In production, no route goes unwatched: every public route (the gateway
 * faces the internet, so every route) has an objective, its own or its
 * backend's, so that a breach alerts someone on every target.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import type { SpecV1 } from "../../sdk/spec";
import { appSpecs, reportAt } from "../resources";

/** Config of the policy: whether the stack is production. */
export interface ObjectivesOnRoutesConfig {
  /** The stack serves production traffic (as a Pulumi stack tag, `environment: production` says the same). */
  production: boolean;
}

/** The stack tag that marks a production stack, and its value. */
export const PRODUCTION_TAG = { key: "environment", value: "production" } as const;

/** True when the route, or every function or model version it reaches, declares an objective. */
function watched(spec: SpecV1, key: string): boolean {
  const route = spec.routes[key];
  if (route.objectives?.length) return true;
  const { target } = route;
  if (target.kind === "function") return Boolean(spec.functions[target.name]?.objectives?.length);
  const versions = Object.keys(target.weights);
  return versions.length > 0 && versions.every((version) => spec.models[`${target.name}@${version}`]?.objectives?.length);
}

/** A production stack states an objective on every route. */
export const objectivesOnRoutes: StackValidationPolicy = {
  name: "cloudloom-objectives-on-routes",
  description:
    "In a production stack (policy config production: true, or the stack tag environment: production), every public route, and so every route, has an objective of its own or of every backend it reaches.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { production: { type: "boolean", default: false } } },
  validateStack: (args, report) => {
    const production =
      args.getConfig<ObjectivesOnRoutesConfig>().production || args.stackTags.get(PRODUCTION_TAG.key) === PRODUCTION_TAG.value;
    if (!production) return;
    for (const { resource, spec } of appSpecs(args.resources)) {
      for (const key of Object.keys(spec.routes)) {
        if (!watched(spec, key))
          reportAt(
            report,
            `route ${key} has no objective, so nothing alerts when it fails; add objectives: [{ errorRate: "1%", window: "5 minutes", severity: "page" }] to it or to what it calls`,
            resource.urn,
            `routes.${key}`,
          );
      }
    }
  },
};

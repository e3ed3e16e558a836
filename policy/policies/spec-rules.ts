/** Policies over the declaration itself: routes, model pinning, and scale-to-zero against latency budgets. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { toMilliseconds } from "../../sdk/spec";
import { appSpecs, reportAt } from "../resources";

/** Every route the gateway serves to the internet has a rate limit. */
export const publicRoutesRateLimited: StackValidationPolicy = {
  name: "cloudloom-public-routes-rate-limited",
  description: "Every public route (the gateway faces the internet, so every route) declares a rate limit.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    for (const { resource, spec } of appSpecs(resources)) {
      for (const [key, route] of Object.entries(spec.routes)) {
        if (!route.rateLimit)
          reportAt(report, `route ${key} has no rate limit; add rateLimit: { requests, per }`, resource.urn, `routes.${key}`);
      }
    }
  },
};

/** Models are pinned by sha256, and Kubernetes checks the hash before serving. */
export const modelsPinned: StackValidationPolicy = {
  name: "cloudloom-models-pinned",
  description: "Every model version declares its artifact's sha256, and the fetched artifact is checked against it.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    for (const { resource, spec } of appSpecs(resources)) {
      for (const [key, model] of Object.entries(spec.models)) {
        if (!/^[a-f0-9]{64}$/.test(model.artifact?.sha256 ?? ""))
          reportAt(report, `model ${key} is not pinned: declare artifact.sha256`, resource.urn, `models.${key}`);
      }
    }
    for (const r of resources.filter(
      (x) => x.type === "kubernetes:apps/v1:Deployment" && x.props.metadata?.labels?.["cloudloom.dev/kind"] === "model",
    )) {
      const env = (r.props.spec?.template?.spec?.initContainers ?? []).flatMap((c: any) => c.env ?? []);
      if (!env.some((e: any) => e.name === "ARTIFACT_SHA256" && /^[a-f0-9]{64}$/.test(e.value ?? "")))
        report(`model Deployment ${r.name} does not check its artifact's sha256 before serving`, r.urn);
    }
  },
};

/** A GPU model that must answer within a latency budget shorter than its cold start cannot scale to zero. */
export const scaleToZeroLatency: StackValidationPolicy = {
  name: "cloudloom-scale-to-zero-latency",
  description: "GPU models do not scale to zero in regions whose latency budget is shorter than the model's measured cold start.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    for (const { resource, spec } of appSpecs(resources)) {
      for (const [key, model] of Object.entries(spec.models)) {
        const policy = model.scaling ? spec.scalingPolicies[model.scaling] : undefined;
        if (!model.pool || !policy?.scaleToZero || !model.coldStart) continue;
        const coldStart = toMilliseconds(model.coldStart);
        for (const region of model.regions) {
          const budget = spec.regions[region]?.latencyBudget;
          if (budget && toMilliseconds(budget) < coldStart) {
            reportAt(
              report,
              `GPU model ${key} scales to zero but its cold start (${model.coldStart}) exceeds region ${region}'s latency budget (${budget}); keep a floor of one (minInstances: 1, no scaleToZero) or use prewarm`,
              resource.urn,
              `models.${key}`,
            );
          }
        }
      }
    }
  },
};

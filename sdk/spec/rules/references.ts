/** Every name an entry mentions must be declared in the same app. */
import { entries, type Report, type Rule } from "./report";
import type { SpecV1 } from "../schema";

type Kind = "regions" | "gpuPools" | "scalingPolicies" | "models" | "functions";

function checkRef(spec: SpecV1, report: Report, kind: Kind, name: string | undefined, path: string): void {
  if (name === undefined || Object.hasOwn(spec[kind], name)) return;
  report(
    "CL_DANGLING_REFERENCE",
    path,
    `${path} refers to ${kind} "${name}", which this app does not declare`,
    `declare ${kind} "${name}" in the app, or refer to one of: ${Object.keys(spec[kind]).join(", ") || "(none declared)"}`,
  );
}

function checkRefs(spec: SpecV1, report: Report, kind: Kind, names: readonly string[], path: string): void {
  names.forEach((name, index) => checkRef(spec, report, kind, name, `${path}.${index}`));
}

/** Checks references between entries; the spec refers to entries by name. */
export const referencesRule: Rule = (spec, _context, report) => {
  for (const [name, pool] of entries(spec.gpuPools)) checkRefs(spec, report, "regions", pool.regions, `gpuPools.${name}.regions`);
  for (const [key, model] of entries(spec.models)) {
    const base = `models.${key}`;
    if (key !== `${model.name}@${model.version}`) {
      report(
        "CL_FIELD_VALUE",
        base,
        `model key "${key}" does not match its name and version "${model.name}@${model.version}"`,
        `key the model as "${model.name}@${model.version}"`,
      );
    }
    checkRef(spec, report, "gpuPools", model.pool, `${base}.pool`);
    const pool = model.pool === undefined ? undefined : spec.gpuPools[model.pool];
    model.regions.forEach((region, index) => {
      if (!pool || pool.regions.includes(region)) return;
      report(
        "CL_POOL_REGION",
        `${base}.regions.${index}`,
        `model ${key} runs in region "${region}", but GPU pool "${model.pool}" has no nodes there`,
        `add region "${region}" to gpuPools.${model.pool}.regions, or place the model only in: ${pool.regions.join(", ")}`,
      );
    });
    checkRef(spec, report, "scalingPolicies", model.scaling, `${base}.scaling`);
    checkRefs(spec, report, "regions", model.regions, `${base}.regions`);
  }
  for (const [name, fn] of entries(spec.functions)) {
    const base = `functions.${name}`;
    checkRef(spec, report, "scalingPolicies", fn.scaling, `${base}.scaling`);
    checkRefs(spec, report, "regions", fn.regions, `${base}.regions`);
    checkRefs(spec, report, "models", fn.models, `${base}.models`);
  }
  for (const [key, route] of entries(spec.routes)) {
    const path = `routes.${key}.target`;
    if (route.target.kind === "function") {
      checkRef(spec, report, "functions", route.target.name, `${path}.name`);
      continue;
    }
    for (const version of Object.keys(route.target.weights)) {
      checkRef(spec, report, "models", `${route.target.name}@${version}`, `${path}.weights.${version}`);
    }
  }
};

/**
 * The environment a serverless function (Lambda, FC) runs with: its literal
 * variables, its secrets' values (from stack config, stored as Pulumi
 * secrets), and `CLOUDLOOM_RUNTIME`, which tells the bundled adapter where
 * each of its models is served, how to authenticate there, and how long to
 * hold calls to one that may be starting.
 */
import * as pulumi from "@pulumi/pulumi";
import { calledModelRegion, holdLimits, type Endpoint, type SpecV1 } from "../../sdk/spec";
import { RUNTIME_ENV } from "../../runtime/contract";
import { TargetConfigError } from "./config-error";

/** Secret names and values from stack config `cloudloom:secrets`. */
export interface SecretSettings {
  names: string[];
  values: pulumi.Input<Record<string, string>>;
}

/** The secret names the app's functions declare. */
export function declaredSecrets(spec: SpecV1): string[] {
  const names = Object.values(spec.functions).flatMap((fn) =>
    Object.values(fn.environment).flatMap((value) => (typeof value === "string" ? [] : [value.secret])),
  );
  return [...new Set(names)].sort();
}

/** Refuses, before any resource, an app whose functions declare secrets the stack has no value for. */
export function checkSecrets(spec: SpecV1, secrets: SecretSettings | undefined): void {
  const missing = declaredSecrets(spec).filter((name) => !secrets?.names.includes(name));
  if (missing.length > 0)
    throw new TargetConfigError(
      `functions declare secret ${missing.join(", ")}, and stack config cloudloom:secrets has no value for it; set it with: pulumi config set --secret --path 'cloudloom:secrets.${missing[0]}' <value>`,
    );
}

/**
 * A function's environment in `region`; `endpointOf` says where a model key
 * is served for it. `runtime` adds fields to `CLOUDLOOM_RUNTIME` (the queue an
 * asynchronous function works).
 */
export function functionEnvironment(
  spec: SpecV1,
  fnName: string,
  region: string,
  secrets: SecretSettings | undefined,
  endpointOf: (key: string) => pulumi.Input<Endpoint>,
  extra: Record<string, pulumi.Input<string>> = {},
  runtime: Record<string, unknown> | pulumi.Output<Record<string, unknown>> = {},
): Record<string, pulumi.Input<string>> {
  const fn = spec.functions[fnName];
  let values: pulumi.Output<Record<string, string>> | undefined;
  const environment: Record<string, pulumi.Input<string>> = { ...extra };
  for (const [variable, value] of Object.entries(fn.environment))
    environment[variable] =
      typeof value === "string"
        ? value
        : pulumi.secret((values ??= pulumi.output(secrets?.values ?? {})).apply((all) => all[value.secret]));
  // A model whose policy holds requests may be at zero: the function's calls wait out its start, and count in
  // its demand in the region serving them (runtime/serverless/demand-reports.ts), as the gateway's do.
  const models = fn.models.map((key) => {
    const hold = holdLimits(spec, "model", key);
    const held = hold ? { hold, region: calledModelRegion(spec.models[key], region) } : {};
    return { name: spec.models[key].name, key, version: spec.models[key].version, held };
  });
  const serverlessConfig = ([endpoints, more]: [Endpoint[], Record<string, unknown>]) =>
    JSON.stringify({
      region,
      models: Object.fromEntries(
        models.map((model, i) => [model.name, { key: model.key, version: model.version, endpoint: endpoints[i], ...model.held }]),
      ),
      env: Object.keys(fn.environment).sort(),
      ...more,
    });
  // A function that calls no model and works no queue knows its configuration now: a plain value, not one more Output per function to resolve.
  environment[RUNTIME_ENV.serverlessConfig] =
    models.length === 0 && !pulumi.Output.isInstance(runtime)
      ? serverlessConfig([[], runtime])
      : pulumi.all([pulumi.all(models.map((model) => endpointOf(model.key))), pulumi.output(runtime)]).apply(serverlessConfig);
  return environment;
}

/**
 * What every FC function cloudloom deploys gets around it: a published
 * version behind the `live` alias, an HTTP trigger on that alias that only
 * accepts the gateway's JWTs, and, from the scaling policy, a provision
 * config with target tracking and scheduled floors.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { V3Alias, V3FunctionVersion, V3ProvisionConfig, V3Trigger } from "@pulumi/alicloud/fc";
import type { ScalingPolicySpec } from "../../sdk/spec";
import { endCron } from "../shared/cron";
import { toFcCron } from "./cron";

/** The alias every trigger and provision config targets. */
export const LIVE_ALIAS = "live";

/** Target utilization of provisioned instances when the policy states concurrency, not utilization. */
const DEFAULT_UTILIZATION = 0.7;

/**
 * A short digest of a function's whole configuration (code, image, command,
 * environment, sizes). It names the published version, so any change to the
 * configuration publishes a new one.
 */
export function configurationRevision(args: pulumi.Inputs): pulumi.Output<string> {
  // One `all` over the values still to come (the code, the layer, the role): resolving the whole
  // configuration through `output` made an Output per object holding one, for every function.
  const pending: unknown[] = [];
  collectPending(args, pending);
  return pulumi.unsecret(
    pulumi.all(pending).apply((values) => {
      let next = 0;
      const resolved = filledIn(args, () => values[next++]);
      // A digest of secret values reveals none of them.
      return createHash("sha256").update(JSON.stringify(resolved)).digest("hex").slice(0, 16);
    }),
  );
}

/** Whether `value` is a value still to come: an Output or a promise. */
const isPending = (value: unknown): boolean => pulumi.Output.isInstance(value) || value instanceof Promise;

/** Appends every Output and promise in `value` to `pending`, depth first in key order. */
function collectPending(value: unknown, pending: unknown[]): void {
  if (isPending(value)) pending.push(value);
  else if (value !== null && typeof value === "object") for (const item of Object.values(value)) collectPending(item, pending);
}

/** A copy of `value` with each Output and promise replaced by `next()`, taken in collectPending's order. */
function filledIn(value: unknown, next: () => unknown): unknown {
  if (isPending(value)) return next();
  if (Array.isArray(value)) return value.map((item) => filledIn(item, next));
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, filledIn(item, next)]));
}

/**
 * Publishes the function's configuration and points `live` at it. A version
 * is an immutable snapshot, so a new `revision` (the configuration's digest)
 * replaces it: the new version is published, `live` moves to it, and only
 * then is the old one deleted.
 */
export function publishLive(
  name: string,
  functionName: pulumi.Input<string>,
  revision: pulumi.Input<string>,
  child: pulumi.CustomResourceOptions,
): V3Alias {
  const version = new V3FunctionVersion(
    name,
    { functionName, description: pulumi.output(revision).apply((digest) => `cloudloom revision ${digest}`) },
    { ...child, replaceOnChanges: ["description"] },
  );
  return new V3Alias(name, { functionName, aliasName: LIVE_ALIAS, versionId: version.versionId }, child);
}

/** The HTTP trigger's config: JWT auth against the gateway's public key, never anonymous. */
export function jwtTriggerConfig(jwks: object): string {
  return JSON.stringify({
    authType: "jwt",
    authConfig: JSON.stringify({
      jwks,
      tokenLookup: [{ type: "header", name: "Authorization", prefix: "Bearer " }],
      claimPassThrough: [],
    }),
    methods: ["POST", "GET"],
    disableURLInternet: false,
  });
}

/** Each JWKS's trigger config, built once: every function and model version of an app shares the gateway's JWKS. */
const triggerConfigs = new WeakMap<object, pulumi.Output<string>>();

/** The trigger config for `jwks` (see jwtTriggerConfig), shared by every trigger of the same JWKS. */
function triggerConfigOf(jwks: pulumi.Input<object>): pulumi.Output<string> {
  let config = triggerConfigs.get(jwks);
  if (!config) triggerConfigs.set(jwks, (config = pulumi.output(jwks).apply(jwtTriggerConfig)));
  return config;
}

/** An HTTP trigger on a qualifier (`live`, another alias, or a version), named `triggerName`; returns its internet URL. */
export function jwtTrigger(
  name: string,
  functionName: pulumi.Input<string>,
  qualifier: pulumi.Input<string>,
  jwks: pulumi.Input<object>,
  child: pulumi.CustomResourceOptions,
  triggerName = "http",
): pulumi.Output<string> {
  const trigger = new V3Trigger(
    name,
    {
      functionName,
      triggerName,
      triggerType: "http",
      qualifier,
      triggerConfig: triggerConfigOf(jwks),
    },
    child,
  );
  return trigger.httpTrigger.apply((http) => http.urlInternet);
}

/** Provisioned instances: the floor, target tracking between floor and max, and one scheduled floor (and its end) per schedule. */
export function provision(
  name: string,
  functionName: pulumi.Input<string>,
  alias: V3Alias,
  policy: ScalingPolicySpec,
  gpu: boolean,
  child: pulumi.CustomResourceOptions,
): V3ProvisionConfig {
  const floor = policy.scaleToZero ? 0 : policy.minInstances;
  const metricTarget = policy.targetUtilization !== undefined ? policy.targetUtilization / 100 : DEFAULT_UTILIZATION;
  return new V3ProvisionConfig(
    name,
    {
      functionName,
      qualifier: alias.aliasName,
      target: floor,
      alwaysAllocateGpu: gpu && floor >= 1,
      targetTrackingPolicies: [
        {
          name: "concurrency",
          metricType: "ProvisionedConcurrencyUtilization",
          metricTarget,
          minCapacity: floor,
          maxCapacity: policy.maxInstances,
        },
      ],
      scheduledActions: policy.schedules.flatMap((schedule, index) => [
        {
          name: `floor-${index}`,
          scheduleExpression: toFcCron(schedule.cron),
          target: schedule.minInstances,
          timeZone: schedule.timezone,
        },
        { name: `floor-${index}-end`, scheduleExpression: toFcCron(endCron(schedule)), target: floor, timeZone: schedule.timezone },
      ]),
    },
    child,
  );
}

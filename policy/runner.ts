/**
 * The offline policy gate: runs the policy objects on resources planned
 * under Pulumi's mock runtime, with no cloud, credentials or CLI. Config
 * schema defaults are applied here, as the Pulumi engine would.
 */
import type { EnforcementLevel, StackValidationPolicy } from "@pulumi/policy";
import type { PlannedResource } from "../providers/plan";
import { POLICIES } from "./policies";
import { specPathOf, type PlannedPolicyResource } from "./resources";

/** One violation. */
export interface Violation {
  policy: string;
  level: EnforcementLevel;
  /** `type::name` of the resource, or the app. */
  resource: string;
  message: string;
  /** The spec path of the declaration at fault (`gpuPools.big`), when the policy or the resource's labels name it. */
  path?: string;
}

/** Per-policy config, keyed by policy name (as in a policy pack's config file). */
export type PolicyConfig = Record<string, Record<string, unknown>>;

function defaults(policy: StackValidationPolicy): Record<string, unknown> {
  const properties = (policy.configSchema?.properties ?? {}) as Record<string, { default?: unknown }>;
  return Object.fromEntries(
    Object.entries(properties)
      .filter(([, schema]) => schema.default !== undefined)
      .map(([key, schema]) => [key, schema.default]),
  );
}

/** Turns planned resources into what policies read, with URNs the reports can name. */
export function toPolicyResources(resources: readonly PlannedResource[]): PlannedPolicyResource[] {
  return resources.map((r) => ({ type: r.type, name: r.name, props: r.inputs as Record<string, any>, urn: `${r.type}::${r.name}` }));
}

/** Runs every policy (or `policies`) on `resources`; returns all violations. */
export async function evaluatePolicies(
  resources: readonly PlannedPolicyResource[],
  config: PolicyConfig = {},
  policies: readonly StackValidationPolicy[] = POLICIES,
): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const policy of policies) {
    const level = (config[policy.name]?.enforcementLevel as EnforcementLevel | undefined) ?? policy.enforcementLevel ?? "advisory";
    if (level === "disabled") continue;
    const settings = { ...defaults(policy), ...config[policy.name] };
    const args = {
      resources: resources as never,
      stackTags: new Map<string, string>(),
      getConfig: <T extends object>() => settings as T,
      notApplicable: (reason?: string): never => {
        throw new Error(`not applicable: ${reason ?? ""}`);
      },
    };
    const report = (message: string, urn?: string, path?: string) => {
      const resource = urn === undefined ? undefined : resources.find((r) => r.urn === urn);
      const at = path ?? (resource ? specPathOf(resource) : undefined);
      violations.push({ policy: policy.name, level, resource: urn ?? "stack", message, ...(at ? { path: at } : {}) });
    };
    await policy.validateStack(args, report as (message: string, urn?: string) => void);
  }
  return violations;
}

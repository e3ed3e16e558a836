/**
 * No secret value in plain function or container configuration: a variable a
 * function declares as a secret (`environment: { NAME: { secret } }` in the
 * spec an App component carries) must not appear, with a literal value, in
 * the environment of a Lambda function, an ECS task definition's containers
 * or an Alibaba Cloud Function Compute function. Secrets live in the cloud's
 * secret store (Secrets Manager on AWS), and the runtime reads them at cold
 * start with the function's own role; ECS containers take them from `secrets`.
 * The tracing collector's export headers (its API key) and the gateway's
 * metrics token are always such secrets.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { RUNTIME_ENV, TRACING_ENV } from "../../runtime/contract";
import { appSpecs, unwrap, type PlannedPolicyResource } from "../resources";

/** Variables that hold a secret whatever the spec declares: the tracing collector's export headers, the gateway's metrics token. */
const ALWAYS_SECRET = [TRACING_ENV.headers, TRACING_ENV.tracesHeaders, RUNTIME_ENV.metricsToken];

/** The variables of a plain map of variable to value (Lambda `environment.variables`, FC `environmentVariables`). */
function mapVariables(variables: unknown): string[] {
  const plain = unwrap(variables);
  return typeof plain === "object" && plain !== null && !Array.isArray(plain) ? Object.keys(plain) : [];
}

/** The variables every container of an ECS task definition sets in its `environment`. */
function ecsVariables(containerDefinitions: unknown): string[] {
  let containers = unwrap(containerDefinitions);
  try {
    if (typeof containers === "string") containers = JSON.parse(containers);
  } catch {
    return [];
  }
  return (Array.isArray(containers) ? containers : []).flatMap((container) =>
    (Array.isArray(container?.environment) ? container.environment : [])
      .map((e: { name?: unknown }) => e?.name)
      .filter((name: unknown): name is string => typeof name === "string"),
  );
}

/** Where a resource's plain environment is and what to call it, for the types the policy checks. */
function plainVariables(r: PlannedPolicyResource): { kind: string; variables: string[]; fix: string } | undefined {
  if (r.type === "aws:lambda/function:Function")
    return {
      kind: "Lambda function",
      variables: mapVariables((unwrap(r.props.environment) as { variables?: unknown } | null | undefined)?.variables),
      fix: "keep it in Secrets Manager and give the function only the secret's ARN (CLOUDLOOM_SECRETS_ARN)",
    };
  if (r.type === "aws:ecs/taskDefinition:TaskDefinition")
    return {
      kind: "ECS task definition",
      variables: ecsVariables(r.props.containerDefinitions),
      fix: "take it from a Secrets Manager secret through the container's secrets (valueFrom)",
    };
  if (/^alicloud:fc\//.test(r.type) && "environmentVariables" in (r.props ?? {}))
    return {
      kind: "Function Compute function",
      variables: mapVariables(r.props.environmentVariables),
      fix: "keep it in the cloud's secret store and have the runtime read it at cold start",
    };
  return undefined;
}

/** Declared secret variables never sit, as literals, in Lambda, ECS or Function Compute environments. */
export const noPlaintextSecrets: StackValidationPolicy = {
  name: "cloudloom-no-plaintext-secrets",
  description:
    "A variable a function declares as a secret is not set as a literal in any Lambda, ECS task or Function Compute environment; it is kept in the cloud's secret store and read at cold start.",
  enforcementLevel: "mandatory",
  validateStack: ({ resources }, report) => {
    const secretVariables = new Set([
      ...ALWAYS_SECRET,
      ...appSpecs(resources).flatMap(({ spec }) =>
        Object.values(spec.functions ?? {}).flatMap((fn) =>
          Object.entries(fn.environment ?? {}).flatMap(([variable, value]) => (typeof value === "string" ? [] : [variable])),
        ),
      ),
    ]);
    for (const r of resources) {
      const found = plainVariables(r);
      if (!found) continue;
      const leaked = [...new Set(found.variables.filter((variable) => secretVariables.has(variable)))].sort();
      if (leaked.length > 0)
        report(`${found.kind} ${r.name} sets secret ${leaked.join(", ")} in its plain environment; ${found.fix}`, r.urn);
    }
  },
};

/** `cloudloom policy <app> --target T|all`: the policy pack on the offline plan; the CI gate. */
import { readFileSync } from "node:fs";
import { POLICIES } from "../../policy/policies";
import { evaluatePolicies, toPolicyResources, type PolicyConfig, type Violation } from "../../policy/runner";
import { toSarif } from "../../policy/sarif";
import type { CommandIo } from "../io";
import { planApp, plannableTargets, stackConfig } from "../plan";
import { progress } from "../progress";
import { checkTarget } from "./plan";

/** Usage text of the policy command. */
export const POLICY_USAGE = `cloudloom policy <app> --target kubernetes|all [--format text|json|sarif] [--policy-config FILE]

Plans the app offline (as \`cloudloom plan\`), then runs the policy pack on
the planned resources: the same policy objects \`pulumi preview --policy-pack
policy\` runs. Prints violations grouped by policy. --policy-config is a JSON
file of per-policy settings, keyed by policy name.

Exit codes: 0 no mandatory violation, 1 a mandatory violation (or the app has problems), 2 usage error.`;

function text(violations: readonly Violation[], targets: string[]): string {
  if (violations.length === 0) return `no policy violations (${POLICIES.length} policies, targets: ${targets.join(", ")})\n`;
  const byPolicy = new Map<string, Violation[]>();
  for (const v of violations) byPolicy.set(v.policy, [...(byPolicy.get(v.policy) ?? []), v]);
  return [...byPolicy]
    .map(
      ([policy, list]) =>
        `${policy} (${list[0].level}, ${list.length})\n${list.map((v) => `  ${v.resource}\n    ${v.message}`).join("\n")}`,
    )
    .join("\n\n")
    .concat("\n");
}

/** Runs the policy command. */
export async function policyCommand(
  args: { app: string; target?: string; format?: string; policyConfig?: string },
  io: CommandIo,
): Promise<number> {
  const format = args.format ?? "text";
  if (!["text", "json", "sarif"].includes(format)) {
    io.err(`--format ${format} is not one of text, json, sarif\n`);
    return 2;
  }
  const targets = args.target === "all" ? plannableTargets() : [args.target];
  for (const target of targets) if (!checkTarget(target, io)) return 2;
  const config = args.policyConfig ? (JSON.parse(readFileSync(args.policyConfig, "utf8")) as PolicyConfig) : {};
  const violations: Violation[] = [];
  for (const target of targets as Array<ReturnType<typeof plannableTargets>[number]>) {
    const plan = await progress(io, `planning ${args.app} on ${target}`, () => planApp(args.app, target, stackConfig(target)));
    violations.push(
      ...(await evaluatePolicies(toPolicyResources(plan.resources), config)).map((v) => ({ ...v, resource: `${target}:${v.resource}` })),
    );
  }
  if (format === "json") io.out(`${JSON.stringify({ violations }, null, 2)}\n`);
  else if (format === "sarif") io.out(`${JSON.stringify(toSarif(violations, POLICIES, args.app), null, 2)}\n`);
  else io.out(text(violations, targets as string[]));
  return violations.some((v) => v.level === "mandatory") ? 1 : 0;
}

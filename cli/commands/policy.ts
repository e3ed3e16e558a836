/** `cloudloom policy <app> --target T[,T…]|all`: the policy pack on the offline plan; the CI gate. */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { POLICIES } from "../../policy/policies";
import { evaluatePolicies, toPolicyResources, type PolicyConfig, type Violation } from "../../policy/runner";
import { toSarif } from "../../policy/sarif";
import { appSourceOf } from "../../policy/source";
import { formatProblems, isTarget, type Problem, type Target } from "../../sdk";
import { loadApp } from "../../sdk/load-app";
import type { CommandIo } from "../io";
import { planApp, plannableTargets, stackConfig } from "../plan";
import { countedProgress } from "../progress";
import { checkTarget } from "./plan";

/** Usage text of the policy command. */
export const POLICY_USAGE = `cloudloom policy <app> --target T[,T...]|all [--target T ...] [--format text|json|sarif]
                 [--policy-config FILE] [--stack-config FILE | --stack-config TARGET=FILE ...]

Plans the app offline (as \`cloudloom plan\`) on each target, then runs the
policy pack on the planned resources: the same policy objects \`pulumi
preview --policy-pack policy\` runs. Prints violations grouped by policy.
Targets are a comma-separated list, repeated --target, or all.
--policy-config is a JSON file of per-policy settings, keyed by policy name.
--stack-config is a Pulumi stack file (default Pulumi.dev-<target>.yaml): one
FILE for every target, or TARGET=FILE for one.

With --format sarif, each result points at the app's file and the line of
the declaration at fault; an app whose declaration has problems gets them as
SARIF results too (rule = problem code) and no plan.

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

/** Arguments of the policy command. */
export interface PolicyArgs {
  app: string;
  /** Targets, each possibly a comma-separated list, or `all`. */
  targets: string[];
  format?: string;
  policyConfig?: string;
  /** Stack files: `FILE` for every target, `TARGET=FILE` for one. */
  stackConfigs?: string[];
}

/** The targets named, in order and once each; `all` is every plannable target. */
export function expandTargets(values: readonly string[]): string[] {
  const named = values
    .flatMap((value) => value.split(","))
    .map((t) => t.trim())
    .filter(Boolean);
  const expanded = named.flatMap((t) => (t === "all" ? plannableTargets() : [t]));
  return [...new Set(expanded)];
}

/** The stack file of each target: `TARGET=FILE` entries, else the one plain `FILE`; errors name the value at fault. */
export function stackFiles(
  values: readonly string[],
  targets: readonly string[],
): { files: Record<string, string | undefined> } | { error: string } {
  const perTarget: Record<string, string> = {};
  let shared: string | undefined;
  for (const value of values) {
    const match = /^([a-z]+)=(.+)$/.exec(value);
    if (match && isTarget(match[1])) {
      if (!targets.includes(match[1]))
        return { error: `--stack-config ${value}: ${match[1]} is not one of the targets (${targets.join(", ")})` };
      perTarget[match[1]] = match[2];
    } else if (shared !== undefined) {
      return { error: `--stack-config ${value}: give one FILE for every target, or TARGET=FILE per target` };
    } else shared = value;
  }
  for (const file of [...Object.values(perTarget), ...(shared ? [shared] : [])])
    if (!existsSync(file)) return { error: `--stack-config ${file} does not exist` };
  return { files: Object.fromEntries(targets.map((t) => [t, perTarget[t] ?? shared])) };
}

/** The module an app path names (a directory's app.ts or index.ts), for SARIF locations. */
function appModule(app: string): string {
  const path = resolve(app);
  if (existsSync(path) && statSync(path).isDirectory())
    return ["app.ts", "index.ts"].map((file) => join(path, file)).find((file) => existsSync(file)) ?? path;
  return path;
}

function readPolicyConfig(file: string | undefined): PolicyConfig | { error: string } {
  if (!file) return {};
  try {
    return JSON.parse(readFileSync(file, "utf8")) as PolicyConfig;
  } catch (error) {
    return { error: `--policy-config ${file} cannot be read as JSON: ${(error as Error).message.split("\n")[0]}` };
  }
}

/** Every problem of the app on any of the targets, once each. */
function specProblems(app: ReturnType<typeof loadApp>, targets: readonly Target[]): Problem[] {
  const seen = new Map<string, Problem>();
  for (const target of targets) for (const p of app.problems({ target })) seen.set(`${p.code}|${p.path}|${p.message}`, p);
  return [...seen.values()];
}

/** Runs the policy command. */
export async function policyCommand(args: PolicyArgs, io: CommandIo): Promise<number> {
  const format = args.format ?? "text";
  if (!["text", "json", "sarif"].includes(format)) {
    io.err(`--format ${format} is not one of text, json, sarif\n`);
    return 2;
  }
  const targets = expandTargets(args.targets);
  if (targets.length === 0) targets.push(undefined as never);
  for (const target of targets) if (!checkTarget(target, io)) return 2;
  const stacks = stackFiles(args.stackConfigs ?? [], targets);
  const config = readPolicyConfig(args.policyConfig);
  for (const failed of [stacks, config])
    if ("error" in failed && typeof failed.error === "string") {
      io.err(`${failed.error}\n`);
      return 2;
    }
  const files = (stacks as { files: Record<string, string | undefined> }).files;
  const app = loadApp(args.app);
  const artifact = appModule(args.app);
  const sourceOf = appSourceOf(artifact, app as { sourceOf?: never });
  const problems = specProblems(app, targets as Target[]);
  if (problems.length > 0) {
    if (format === "sarif") io.out(`${JSON.stringify(toSarif([], POLICIES, { artifact, sourceOf, problems }), null, 2)}\n`);
    else if (format === "json") io.out(`${JSON.stringify({ problems, violations: [] }, null, 2)}\n`);
    io.err(`app "${app.name}" has ${problems.length} problem(s):\n${formatProblems(problems)}\n`);
    return 1;
  }
  const violations: Violation[] = [];
  for (const target of targets as Target[]) {
    const plan = await countedProgress(io, `planning ${args.app} on ${target}`, "resources", (counter) =>
      planApp(args.app, target, stackConfig(target, files[target], args.app), (key) => counter.tick(key)),
    );
    violations.push(
      ...(await evaluatePolicies(toPolicyResources(plan.resources), config as PolicyConfig)).map((v) => ({
        ...v,
        resource: `${target}:${v.resource}`,
      })),
    );
  }
  if (format === "json") io.out(`${JSON.stringify({ violations }, null, 2)}\n`);
  else if (format === "sarif") io.out(`${JSON.stringify(toSarif(violations, POLICIES, { artifact, sourceOf }), null, 2)}\n`);
  else io.out(text(violations, targets));
  return violations.some((v) => v.level === "mandatory") ? 1 : 0;
}

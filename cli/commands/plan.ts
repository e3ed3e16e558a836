/** `cloudloom plan <app> --target T [--json] [--out DIR]`: what `pulumi up` would create, offline. */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeTarget } from "../../providers/registry";
import { isTarget } from "../../sdk";
import type { CommandIo } from "../io";
import { planApp, plannableTargets, stackConfig } from "../plan";
import { planLandings, planTree } from "../plan-format";
import { countedProgress } from "../progress";

/** Usage text of the plan command. */
export const PLAN_USAGE = `cloudloom plan <app> --target kubernetes [--json] [--out DIR] [--stack-config FILE]

Runs the stack program under Pulumi's mock runtime and prints every resource
\`pulumi up\` would create: a tree of components, types, names and key inputs,
or JSON. No cloud, credentials or Pulumi CLI. Provider-computed defaults are
not applied. --out DIR writes the Kubernetes manifests (kubectl apply -f).
Stack settings come from --stack-config, or Pulumi.dev-<target>.yaml.

Exit codes: 0 planned, 1 the app has problems for the target, 2 usage error (unknown target, missing file).`;

/** Validates `--target`, naming what is available. */
export function checkTarget(target: string | undefined, io: CommandIo): target is ReturnType<typeof plannableTargets>[number] {
  if (target && isTarget(target) && plannableTargets().includes(target)) return true;
  io.err(`--target ${target ?? "(missing)"} is not available; choose one of: ${plannableTargets().join(", ")}\n`);
  return false;
}

/** Runs the plan command. */
export async function planCommand(
  args: { app: string; target?: string; json?: boolean; out?: string; stackConfig?: string },
  io: CommandIo,
): Promise<number> {
  if (!checkTarget(args.target, io)) return 2;
  if (args.stackConfig && !existsSync(args.stackConfig)) {
    io.err(`--stack-config ${args.stackConfig} does not exist\n`);
    return 2;
  }
  const plan = await countedProgress(io, `planning ${args.app} on ${args.target}`, "resources", (counter) =>
    planApp(args.app, args.target as never, stackConfig(args.target!, args.stackConfig, args.app), (key) => counter.tick(key)),
  );
  if (args.json) {
    io.out(
      `${JSON.stringify({ offline: true, note: "Pulumi mock runtime: provider-computed defaults are not applied", ...plan, landings: planLandings(plan), floorCost: describeTarget(plan.target).floorCost?.(plan.resources) ?? [] }, null, 2)}\n`,
    );
  } else {
    io.out(`${planTree(plan)}\n`);
    const artifacts = describeTarget(plan.target).artifacts?.(plan.resources) ?? [];
    if (artifacts.length > 0)
      io.out(
        `Model artifacts the deployment fetches (each checked against its sha256):\n${artifacts.map((a) => `  ${a.url}  sha256 ${a.sha256}  (${a.workloads.join(", ")})`).join("\n")}\n`,
      );
  }
  if (args.out) {
    const { manifests, fillIns } = describeTarget(plan.target);
    if (!manifests) {
      io.err(`--out writes Kubernetes manifests; ${plan.target} has none\n`);
      return 2;
    }
    mkdirSync(args.out, { recursive: true });
    const file = join(args.out, `${plan.app}.yaml`);
    writeFileSync(file, manifests(plan.resources));
    io.err(`wrote ${file}\n`);
    // Secret values an offline plan does not have are marked "<fill in: ...>" in the file: say which, and from what.
    for (const fill of fillIns?.(plan.resources) ?? [])
      io.err(`fill in ${fill.kind} ${fill.namespace ? `${fill.namespace}/` : ""}${fill.name} ${fill.key}: ${fill.source}\n`);
  }
  return 0;
}

/** Renders a plan as a readable tree (component → children, type, name, key inputs). */
import type { Landing } from "../providers/provider";
import { describeTarget } from "../providers/registry";
import type { SpecV1, Target } from "../sdk";
import type { Plan, PlanEntry } from "./plan";

function at(value: unknown, path: string): unknown {
  return path
    .split(/(?<!\\)\./)
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key.replace(/\\\./g, ".")], value);
}

function describe(value: unknown): string {
  if (Array.isArray(value))
    return value.map((item) => (typeof item === "string" ? item : ((item as { type?: string })?.type ?? JSON.stringify(item)))).join("+");
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The key inputs of a resource as `name=value` pairs, as its target describes them. */
export function keyInputs(resource: PlanEntry, target: Target): string {
  return (describeTarget(target).keyInputs[resource.type] ?? [])
    .map(([label, path]) => [label, at(resource.inputs, path)] as const)
    .filter(([, value]) => value !== undefined)
    .map(([label, value]) => `${label}=${describe(value)}`)
    .join(" ");
}

/** The spec the plan's app component was built from, if it has one. */
function planSpec(plan: Plan): SpecV1 | undefined {
  const app = plan.resources.find((r) => /^cloudloom:[a-z]+:App$/.test(r.type) && typeof r.inputs.spec === "string");
  return app ? (JSON.parse(app.inputs.spec as string) as SpecV1) : undefined;
}

/** Per region, where each entry lands on the plan's target and why. */
export function planLandings(plan: Plan): Landing[] {
  const spec = planSpec(plan);
  return spec ? (describeTarget(plan.target).landings?.(spec) ?? []) : [];
}

/** The landings as lines: a region, then `entry -> where (why)` under it. */
export function landingLines(landings: readonly Landing[]): string[] {
  const lines: string[] = [];
  let region: string | undefined;
  for (const landing of landings) {
    if (landing.region !== region) lines.push(`  ${(region = landing.region)}:`);
    lines.push(`    ${landing.entry} -> ${landing.where}${landing.why ? ` (${landing.why})` : ""}`);
  }
  return lines;
}

/** Per region, the monthly cost of the always-on floor, when the target prices its resources. */
export function floorCostLines(plan: Plan): string[] {
  const costs = describeTarget(plan.target).floorCost?.(plan.resources) ?? [];
  if (costs.length === 0) return [];
  return [
    "Monthly cost of the always-on floor (list prices from providers/prices.ts, each with its date and source; verify before relying on them):",
    ...costs.flatMap((cost) => [
      `  ${cost.region}: $${cost.totalUsd.toFixed(2)}/month`,
      ...cost.lines.map((line) => `    $${line.usd.toFixed(2)}  ${line.resource}: ${line.what}`),
      ...cost.unpriced.map((item) => `    not priced: ${item}`),
    ]),
  ];
}

/** Scheduled floors the plan derived from pre-warm history, each with why it exists. */
export function derivedFloors(plan: Plan): string[] {
  const spec = planSpec(plan);
  if (!spec) return [];
  return Object.entries(spec.scalingPolicies).flatMap(([name, policy]) =>
    policy.schedules
      .filter((schedule) => schedule.reason)
      .map((s) => `  ${name}: "${s.cron}" ${s.timezone}, ${s.minInstances} instance(s) for ${s.duration}: ${s.reason}`),
  );
}

/** The alerts the plan creates, one line each, then the objectives this target cannot alert on and why. */
export function alertLines(plan: Plan): string[] {
  return [
    ...(plan.alerts.length ? [`Alerts (${plan.alerts.length}):`] : []),
    ...plan.alerts.map((a) => `  ${a.severity.padEnd(6)} ${a.name}  ${a.objective}\n         when ${a.condition}`),
    ...(plan.unobserved.length ? [`Objectives ${plan.target} cannot alert on (${plan.unobserved.length}):`] : []),
    ...plan.unobserved.map((u) => `  ${u.objective} (${u.name}): ${u.reason}`),
  ];
}

/** The plan as an indented tree. */
export function planTree(plan: Plan): string {
  const children = new Map<string, PlanEntry[]>();
  for (const r of plan.resources) children.set(r.parent ?? "", [...(children.get(r.parent ?? "") ?? []), r]);
  const lines: string[] = [];
  const walk = (parent: string, indent: string) => {
    const list = children.get(parent) ?? [];
    list.forEach((r, index) => {
      const last = index === list.length - 1;
      const inputs = keyInputs(r, plan.target);
      lines.push(`${indent}${last ? "└─" : "├─"} ${r.type} ${r.name}${inputs ? `  ${inputs}` : ""}`);
      walk(`${r.type}::${r.name}`, `${indent}${last ? "   " : "│  "}`);
    });
  };
  walk("", "");
  const components = plan.resources.filter((r) => !r.custom).length;
  const floors = derivedFloors(plan);
  const landings = landingLines(planLandings(plan));
  const cost = floorCostLines(plan);
  return [
    `Offline plan of "${plan.app}" on ${plan.target}: Pulumi's mock runtime, no cloud, no credentials. Provider-computed defaults are not applied.`,
    ...(plan.placeholders.length
      ? [`Placeholders used for unset stack config: ${plan.placeholders.map((k) => `cloudloom:${k}`).join(", ")}`]
      : []),
    ...lines,
    `${plan.resources.length - components} resources in ${components} components`,
    // Under mocks a URL the cloud assigns (a load balancer's address) is not known; one built from settings is.
    `Gateway URL: ${plan.gatewayUrl && /^https?:\/\/[^/]/.test(plan.gatewayUrl) ? plan.gatewayUrl : "assigned by the cloud at pulumi up"}`,
    ...(landings.length ? ["Where each entry lands:", ...landings] : []),
    ...cost,
    ...(floors.length ? ["Scheduled floors derived from pre-warm history:", ...floors] : []),
    ...alertLines(plan),
  ].join("\n");
}

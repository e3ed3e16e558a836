/**
 * Offline plans: the real stack program (`stacks/program.ts`) under Pulumi's
 * mock runtime, recording every resource, its inputs and its parent. Used
 * by `cloudloom plan` and `cloudloom policy`.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import yaml from "js-yaml";
import { planUnderMocks, type PlannedResource } from "../providers/plan";
import type { PlannedAlert } from "../providers/provider";
import { describeTarget, secretValues, TARGET_FACTORIES } from "../providers/registry";
import type { Unobserved } from "../providers/shared/alerts";
import { declaredSecrets } from "../providers/shared/function-env";
import { loadApp, type EndpointsMap, type Target } from "../sdk";
import { runStack } from "../stacks/program";

/** A planned resource with the component it belongs to. */
export interface PlanEntry extends PlannedResource {
  /** `type::name` of the parent component, if any. */
  parent?: string;
}

/** The outcome of an offline plan. */
export interface Plan {
  app: string;
  target: Target;
  resources: PlanEntry[];
  endpoints: EndpointsMap;
  /** The gateway's public URL as the plan resolves it (unknown values show as placeholders under mocks). */
  gatewayUrl: string;
  /** Settings that were filled with placeholders because the stack config had none. */
  placeholders: string[];
  /** The alerts the stack would create, one per rule or alarm. */
  alerts: PlannedAlert[];
  /** The objectives this target cannot alert on, and why. */
  unobserved: Unobserved[];
}

const ROOT = resolve(__dirname, "..");

/** The targets this version can plan. */
export function plannableTargets(): Target[] {
  return Object.keys(TARGET_FACTORIES) as Target[];
}

/** The Pulumi project an app belongs to: the nearest `Pulumi.yaml` at or above it, its directory and its name. */
export function pulumiProjectOf(appPath: string): { dir: string; name: string } | undefined {
  let dir = resolve(appPath);
  if (existsSync(dir) && !statSync(dir).isDirectory()) dir = dirname(dir);
  for (;;) {
    const file = join(dir, "Pulumi.yaml");
    if (existsSync(file)) {
      const project = yaml.load(readFileSync(file, "utf8")) as { name?: unknown } | undefined;
      return { dir, name: typeof project?.name === "string" ? project.name : "cloudloom" };
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Reads the settings of a Pulumi stack file: `cloudloom:*` keys, and the
 * project's own `<project>:*` keys (a user's project, whatever its name,
 * types its settings in its own namespace). The file defaults to
 * `Pulumi.dev-<target>.yaml` of the app's Pulumi project.
 */
export function stackConfig(target: string, file?: string, appPath = ROOT): Record<string, string> {
  const project = pulumiProjectOf(appPath);
  const path = file ?? join(project?.dir ?? ROOT, `Pulumi.dev-${target}.yaml`);
  if (!existsSync(path)) return {};
  const parsed = yaml.load(readFileSync(path, "utf8")) as { config?: Record<string, unknown> } | undefined;
  const namespaces = ["cloudloom:", ...(project && project.name !== "cloudloom" ? [`${project.name}:`] : [])];
  // Objects reach the program as JSON, as Pulumi's config.get gives them; encrypted
  // values ({ secure: ... }) cannot be read offline and are left to placeholders.
  const settings: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed?.config ?? {})) {
    const namespace = namespaces.find((prefix) => key.startsWith(prefix));
    if (!namespace || (value && typeof value === "object" && "secure" in value)) continue;
    settings[key.slice(namespace.length)] = typeof value === "object" ? JSON.stringify(value) : String(value);
  }
  return settings;
}

/**
 * Plans `appPath` on `target`. Throws SpecError / TargetConfigError like `pulumi up` would.
 * `onResource` hears of each resource as the program registers it (progress for long plans).
 */
export async function planApp(
  appPath: string,
  target: Target,
  config: Record<string, string> = {},
  onResource?: (key: string) => void,
): Promise<Plan> {
  const values: Record<string, string> = { ...config };
  const app = relative(ROOT, resolve(appPath));
  // Settings the target requires get its placeholders, so a plan needs no stack config.
  const targetPlaceholders = describeTarget(target).placeholders();
  const placeholders = Object.keys(targetPlaceholders).filter((key) => values[key] === undefined);
  for (const key of placeholders) values[key] = targetPlaceholders[key];
  const secrets = declaredSecrets(loadApp(resolve(appPath)).toDraft());
  if (values.secrets === undefined && secrets.length > 0) {
    values.secrets = JSON.stringify(Object.fromEntries(secrets.map((name) => [name, "offline-placeholder"])));
    placeholders.push("secrets");
  }
  const parents = new Map<string, string>();
  const keys = new WeakMap<pulumi.Resource, string>();
  const record: pulumi.ResourceTransformation = (args) => {
    const key = `${args.type}::${args.name}`;
    keys.set(args.resource, key);
    if (args.opts.parent) parents.set(key, keys.get(args.opts.parent) ?? "");
    onResource?.(key);
    return undefined;
  };
  const { result, resources } = await planUnderMocks(() =>
    pulumi.output(
      runStack(
        {
          target,
          app,
          get: (key) => values[key],
          getSecret: (key) => (values[key] === undefined ? undefined : pulumi.secret(values[key])),
          secretKeys: (key) => (values[key] === undefined ? undefined : Object.keys(secretValues(values[key], key))),
        },
        { transformations: [record] },
      ),
    ),
  );
  const appResource = resources.find((r) => /^cloudloom:[a-z]+:App$/.test(r.type));
  const alertsComponent = resources.find((r) => /^cloudloom:[a-z]+:Alerts$/.test(r.type));
  // Registration order depends on when outputs resolve; sort so that plans compare equal.
  const sorted = resources
    .map((r) => ({ ...r, parent: parents.get(`${r.type}::${r.name}`) }))
    .sort((a, b) => `${a.type}::${a.name}`.localeCompare(`${b.type}::${b.name}`));
  return {
    app: appResource?.name ?? app,
    target,
    resources: sorted,
    endpoints: result.endpoints,
    gatewayUrl: result.gatewayUrl,
    placeholders,
    alerts: describeTarget(target).alerts?.(sorted) ?? [],
    unobserved: (alertsComponent?.inputs.unobserved as Unobserved[] | undefined) ?? [],
  };
}

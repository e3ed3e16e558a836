/**
 * `cloudloom up|preview|destroy` through Pulumi's Automation API: the same
 * stack program as `pulumi up` (`cloudloomStack` of `stacks/pulumi.ts`), run
 * inline, so an app needs no `Pulumi.yaml` of its own. {@link automationPlan}
 * is pure: it computes everything handed to the Automation API (project,
 * stack, backend, config, program); {@link runAutomation} hands it over.
 *
 * Loaded only after the Pulumi CLI was found on PATH (`up.ts`).
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import type { ConfigMap, PulumiFn } from "@pulumi/pulumi/automation";
import yaml from "js-yaml";
import { cloudloomStack } from "../../stacks/pulumi";
import { UsageError, type CommandIo } from "../io";
import { pulumiProjectOf, stackConfig } from "../plan";

/** What `up`, `preview` and `destroy` are given on the command line. */
export interface AutomationArgs {
  /** The app module (a folder with app.ts, or the file). */
  app: string;
  target: string;
  stack: string;
  /** `key=value`, repeated; a key without a namespace is `cloudloom:<key>`. */
  config?: string[];
  /** `key=value`, repeated; stored encrypted. */
  secrets?: string[];
  /** A Pulumi stack file to read settings from (default: `Pulumi.<stack>.yaml` of the app's Pulumi project, if any). */
  stackConfig?: string;
  /** The state backend (default: `PULUMI_BACKEND_URL`, else `file://<app dir>/.cloudloom/state`). */
  backend?: string;
}

/** Everything handed to the Automation API. */
export interface AutomationPlan {
  /** The app's Pulumi project name (its nearest `Pulumi.yaml`), else the app folder's name. */
  projectName: string;
  stackName: string;
  backendUrl: string;
  /** Where the workspace keeps its generated `Pulumi.yaml` and `Pulumi.<stack>.yaml` (the passphrase salt). */
  workDir: string;
  /** The directory `cloudloom:app` is relative to. */
  projectDir: string;
  /** The stack file the settings were read from, if one exists. */
  stackFile?: string;
  /** Stack config, namespaced (`cloudloom:target`); secrets marked. */
  config: ConfigMap;
  /** Encrypted (`secure:`) keys of the stack file that were not carried over: they need `--secret`. */
  skipped: string[];
  /** The inline program: `cloudloomStack`, reading target, app and settings from the stack config. Returns the stack outputs. */
  program: PulumiFn;
}

/** The stack outputs of the program's result: its fields if it returns an object of them, else `{ endpoints }` as `stacks/index.ts` exports it. */
export function stackOutputs(result: unknown): Record<string, unknown> {
  if (result && typeof result === "object" && !pulumi.Output.isInstance(result) && !Array.isArray(result) && !("then" in result))
    return { ...(result as Record<string, unknown>) };
  return { endpoints: result };
}

function pairs(values: string[] | undefined, flag: string): [string, string][] {
  return (values ?? []).map((pair) => {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UsageError(`${flag} ${pair} is not key=value`);
    const key = pair.slice(0, at);
    return [key.includes(":") ? key : `cloudloom:${key}`, pair.slice(at + 1)];
  });
}

/** The config, backend and inline program `cloudloom up|preview|destroy` hand to the Automation API. Throws UsageError for bad flags. */
export function automationPlan(args: AutomationArgs, env: NodeJS.ProcessEnv = process.env): AutomationPlan {
  const appPath = resolve(args.app);
  if (!existsSync(appPath)) throw new UsageError(`${args.app} does not exist`);
  const appDir = statSync(appPath).isDirectory() ? appPath : dirname(appPath);
  const project = pulumiProjectOf(appPath);
  const projectDir = project?.dir ?? appDir;
  const stackFile = args.stackConfig ? resolve(args.stackConfig) : join(projectDir, `Pulumi.${args.stack}.yaml`);
  if (args.stackConfig && !existsSync(stackFile)) throw new UsageError(`--stack-config ${args.stackConfig} does not exist`);

  const config: ConfigMap = {};
  // The stack file first, then --config and --secret: flags win, and --target and <app> win over all.
  for (const [key, value] of Object.entries(stackConfig(args.target, stackFile, appPath)))
    config[`cloudloom:${key}`] = { value, secret: false };
  for (const [key, value] of pairs(args.config, "--config")) config[key] = { value, secret: false };
  for (const [key, value] of pairs(args.secrets, "--secret")) config[key] = { value, secret: true };
  config["cloudloom:target"] = { value: args.target, secret: false };
  config["cloudloom:app"] = { value: relative(projectDir, appPath).split("\\").join("/") || ".", secret: false };

  const namespaces = ["cloudloom:", ...(project && project.name !== "cloudloom" ? [`${project.name}:`] : [])];
  const skipped = existsSync(stackFile) ? secureKeys(stackFile, namespaces).filter((key) => !config[`cloudloom:${key}`]) : [];
  return {
    projectName: project?.name ?? projectNameOf(appDir),
    stackName: args.stack,
    backendUrl: args.backend ?? env.PULUMI_BACKEND_URL ?? `file://${join(appDir, ".cloudloom", "state")}`,
    workDir: join(appDir, ".cloudloom", "workspace"),
    projectDir,
    stackFile: existsSync(stackFile) ? stackFile : undefined,
    config,
    skipped,
    program: async () => stackOutputs(cloudloomStack({ projectDir })),
  };
}

/** A Pulumi project name from a folder name (letters, digits, `-`, `_`, `.`). */
function projectNameOf(dir: string): string {
  return basename(dir).replace(/[^A-Za-z0-9_.-]/g, "-") || "cloudloom";
}

/** The encrypted settings of a stack file, without their namespace: its secrets provider cannot be carried over, so they are not. */
function secureKeys(file: string, namespaces: string[]): string[] {
  const parsed = yaml.load(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | undefined;
  return Object.entries(parsed?.config ?? {})
    .filter(
      ([key, value]) => namespaces.some((prefix) => key.startsWith(prefix)) && value && typeof value === "object" && "secure" in value,
    )
    .map(([key]) => key.slice(key.indexOf(":") + 1));
}

/** The operations. */
export type AutomationOperation = "up" | "preview" | "destroy";

/**
 * Runs `operation` on the plan's stack, streaming Pulumi's output. Returns
 * the exit code: 0 done, 1 Pulumi failed. `outputs` writes the stack outputs
 * after `up`, as `pulumi stack output --json --show-secrets` would.
 */
export async function runAutomation(
  operation: AutomationOperation,
  plan: AutomationPlan,
  io: CommandIo,
  options: { outputs?: string } = {},
): Promise<number> {
  const automation = require("@pulumi/pulumi/automation") as typeof import("@pulumi/pulumi/automation");
  if (plan.backendUrl.startsWith("file://")) {
    const path = plan.backendUrl.startsWith("file://~") ? undefined : fileURLToPath(plan.backendUrl);
    if (path) mkdirSync(path, { recursive: true });
  }
  mkdirSync(plan.workDir, { recursive: true });
  // State and the workspace's settings stay out of version control.
  const ignore = join(plan.workDir, "..", ".gitignore");
  if (plan.workDir.endsWith(join(".cloudloom", "workspace")) && !existsSync(ignore)) writeFileSync(ignore, "*\n");

  const args = { stackName: plan.stackName, projectName: plan.projectName, program: plan.program };
  const workspace = {
    workDir: plan.workDir,
    projectSettings: { name: plan.projectName, runtime: "nodejs" as const, backend: { url: plan.backendUrl } },
    envVars: { PULUMI_BACKEND_URL: plan.backendUrl },
  };
  let streamed = false;
  try {
    const stack =
      operation === "destroy"
        ? await automation.LocalWorkspace.selectStack(args, workspace)
        : await automation.LocalWorkspace.createOrSelectStack(args, workspace);
    // The stack's config is exactly this run's: keys set by an earlier run and not given now go.
    const stale = Object.keys(await stack.getAllConfig()).filter((key) => !(key in plan.config));
    if (stale.length > 0) await stack.removeAllConfig(stale);
    await stack.setAllConfig(plan.config);
    streamed = true;
    const streams = { onOutput: (text: string) => io.out(text), onError: (text: string) => io.err(text) };
    if (operation === "preview") await stack.preview(streams);
    else if (operation === "destroy") await stack.destroy(streams);
    else {
      const result = await stack.up(streams);
      if (options.outputs) {
        const values = Object.fromEntries(Object.entries(result.outputs).map(([key, output]) => [key, output.value]));
        writeFileSync(options.outputs, `${JSON.stringify(values, null, 2)}\n`);
        io.err(`wrote ${options.outputs}\n`);
      }
    }
    return 0;
  } catch (error) {
    if (error instanceof automation.StackNotFoundError) {
      io.err(`no stack ${plan.stackName} of project ${plan.projectName} in ${plan.backendUrl}\n`);
      return 2;
    }
    if (error instanceof automation.CommandError) {
      // Pulumi's diagnostics of the operation itself were streamed already; those of the set-up were not.
      const result = (error as unknown as { commandResult?: { code?: number; stderr?: string } }).commandResult;
      const detail = streamed ? "" : `: ${result?.stderr?.trim() ?? ""}`;
      io.err(`cloudloom ${operation} failed (pulumi exited with code ${result?.code ?? "?"})${detail}\n`);
      return 1;
    }
    throw error;
  }
}

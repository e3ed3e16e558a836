/**
 * `cloudloom up|preview|destroy <app> --target T --stack S`: the stack program
 * through Pulumi's Automation API, for an app without a `Pulumi.yaml` of its
 * own. This module loads nothing heavy: the Pulumi CLI is looked for on PATH
 * before the Automation API (and the SDK) are loaded.
 */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { UsageError, type CommandIo } from "../io";

/** The operations, as commands. */
export type UpOperation = "up" | "preview" | "destroy";

const WHAT: Record<UpOperation, string> = {
  up: "Creates or updates the stack's resources",
  preview: "Shows what `up` would change, creating nothing",
  destroy: "Deletes every resource of the stack (the stack and its state remain)",
};

/** Usage text of `up`, `preview` or `destroy`. */
export function upUsage(operation: UpOperation): string {
  const extra = operation === "up" ? " [--outputs FILE]" : operation === "destroy" ? " --yes" : "";
  return `cloudloom ${operation} <app> --target T --stack S [--config key=value]... [--secret key=value]...
       [--stack-config FILE] [--backend URL]${extra}

${WHAT[operation]}. Runs the same stack program as \`pulumi up\`,
inline through Pulumi's Automation API: the app needs no Pulumi.yaml. Needs
the Pulumi CLI on PATH (https://www.pulumi.com/docs/install/).

  --target T            aws | alicloud | kubernetes (cloudloom:target)
  --stack S             the stack's name, e.g. dev
  --config key=value    a stack setting, repeatable; a key without a namespace is cloudloom:<key>
  --secret key=value    a secret setting, repeatable, stored encrypted
  --stack-config FILE   read settings from a Pulumi stack file (default: Pulumi.<S>.yaml of the
                        app's Pulumi project, if any); --config and --secret override it; its
                        encrypted (secure:) values are not carried over: pass them with --secret
  --backend URL         the state backend (default: $PULUMI_BACKEND_URL, else
                        file://<app dir>/.cloudloom/state, a folder git ignores)${
                          operation === "up"
                            ? "\n  --outputs FILE        write the stack outputs as JSON (for `cloudloom gateway config --stack-output`)"
                            : operation === "destroy"
                              ? "\n  --yes                 confirm: destroy deletes the resources without asking"
                              : ""
                        }

Any backend but Pulumi Cloud (https://) encrypts secrets with a passphrase:
set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE).

Exit codes: 0 done, 1 Pulumi failed or the app has problems for the target,
2 usage error (unknown target, missing file, no Pulumi CLI, no passphrase).`;
}

/** The path of executable `name` on `env.PATH`, if any (with PATHEXT on Windows). */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const extensions = process.platform === "win32" ? (env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";") : [""];
  for (const dir of (env.PATH ?? "").split(delimiter).filter(Boolean)) {
    for (const extension of extensions) {
      const candidate = join(dir, name + extension);
      try {
        if (!statSync(candidate).isFile()) continue;
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** True when the backend keeps secrets with a passphrase: every backend but Pulumi Cloud. */
export function needsPassphrase(backend: string | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  const url = backend ?? env.PULUMI_BACKEND_URL;
  const cloud = url !== undefined && /^https?:\/\//.test(url);
  return !cloud && env.PULUMI_CONFIG_PASSPHRASE === undefined && env.PULUMI_CONFIG_PASSPHRASE_FILE === undefined;
}

/** The one line printed when the Pulumi CLI is not on PATH. */
export function missingPulumiMessage(operation: UpOperation, backend?: string, env: NodeJS.ProcessEnv = process.env): string {
  const url = backend ?? env.PULUMI_BACKEND_URL;
  const where = url === undefined || url.startsWith("file://") ? "a local file:// backend" : `backend ${url}`;
  const passphrase = needsPassphrase(backend, env)
    ? `; ${where} also needs PULUMI_CONFIG_PASSPHRASE set (it encrypts the stack's secrets)`
    : "";
  return `cloudloom ${operation} needs the Pulumi CLI, and no \`pulumi\` is on PATH: install it from https://www.pulumi.com/docs/install/ (then run this again)${passphrase}`;
}

/** Arguments of the up, preview and destroy commands. */
export interface UpArgs {
  app: string;
  target?: string;
  stack?: string;
  config?: string[];
  secrets?: string[];
  stackConfig?: string;
  backend?: string;
  outputs?: string;
  yes?: boolean;
}

/**
 * Runs `up`, `preview` or `destroy`. Without the Pulumi CLI on PATH it says
 * so in one line and exits 2 (a missing tool is the caller's environment to
 * fix, like a missing credential: nothing is wrong with the app).
 */
export async function upCommand(
  operation: UpOperation,
  args: UpArgs,
  io: CommandIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  if (!args.stack) throw new UsageError(`cloudloom ${operation} needs --stack S (the stack's name, e.g. dev)`);
  if (!args.target) throw new UsageError(`cloudloom ${operation} needs --target T (aws, alicloud or kubernetes)`);
  if (operation === "destroy" && !args.yes)
    throw new UsageError(`cloudloom destroy deletes every resource of stack ${args.stack}: pass --yes to confirm`);
  // Before the Automation API loads (it would fail on its first command): one line, with the install hint.
  if (!findOnPath("pulumi", env)) throw new UsageError(missingPulumiMessage(operation, args.backend, env));
  if (needsPassphrase(args.backend, env))
    throw new UsageError(
      `cloudloom ${operation} keeps state with a passphrase-encrypted secrets provider: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE)`,
    );

  const { checkTarget } = require("./plan") as typeof import("./plan");
  if (!checkTarget(args.target, io)) return 2;
  const { automationPlan, runAutomation } = require("./automation") as typeof import("./automation");
  const plan = automationPlan(
    {
      app: args.app,
      target: args.target,
      stack: args.stack,
      config: args.config,
      secrets: args.secrets,
      stackConfig: args.stackConfig,
      backend: args.backend,
    },
    env,
  );
  if (plan.stackFile) io.err(`settings from ${plan.stackFile}\n`);
  if (plan.skipped.length > 0)
    io.err(`not carried over from the stack file (encrypted): ${plan.skipped.join(", ")}; pass each with --secret key=value\n`);
  io.err(`${operation}: project ${plan.projectName}, stack ${plan.stackName}, state in ${plan.backendUrl}\n`);
  return runAutomation(operation, plan, io, { outputs: args.outputs });
}

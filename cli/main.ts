/**
 * The `cloudloom` command line. Exit codes: 0 success, 1 the app, plan or
 * configuration has problems (or a mandatory policy is violated), 2 usage
 * error (unknown command, flag or target; missing file; a port in use; a
 * missing credential).
 *
 * This module loads nothing but node:util and ./io: `--help` and
 * `--version` answer without loading the SDK, and each command loads only
 * its own module when it runs.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { processIo, UsageError, type CommandIo } from "./io";

const USAGE = `cloudloom <command> [options]

Commands:
  init [dir]              scaffold an app: app.ts, a handler, a Pulumi project and a stack file per target
  spec <app>              print the app's validated Spec v1, or its problems
  plan <app> --target T   what \`pulumi up\` would create, offline (tree, --json, --out manifests)
  policy <app> --target T the policy pack on the offline plan (the CI gate; --format sarif)
  graph <app> [--target T] [--out app.svg]
                          the app drawn as a graph (SVG); with a target, what each entry becomes there
  serve [<app>]           the gateway on the local target, a deployed stack, or one pod's entry
  gateway config          the gateway's endpoints file from \`pulumi stack output --json\`
  gateway url             the URL clients call, from \`pulumi stack output --json\`
  rollout status|pause|resume|abort
                          a running gateway's progressive rollouts (admin key in CLOUDLOOM_ADMIN_KEY)
  up <app> --target T --stack S
                          deploy through Pulumi's Automation API, no Pulumi.yaml needed (needs the Pulumi CLI)
  preview <app> --target T --stack S
                          what \`up\` would change
  destroy <app> --target T --stack S --yes
                          delete the stack's resources

Run \`cloudloom <command> --help\` for a command's options; \`cloudloom --version\` prints the version.
Exit codes: 0 success, 1 problems found, 2 usage error.`;

type Values = Record<string, string | boolean | string[] | undefined>;

/**
 * A command. Its module loads only when it runs (or prints its usage), so a
 * pod's `serve` never loads Pulumi and `plan` never loads onnxruntime.
 */
interface Command {
  usage(): Promise<string>;
  options: NonNullable<ParseArgsConfig["options"]>;
  /** How many positionals it takes. */
  positionals: [min: number, max: number];
  run(values: Values, positionals: string[], io: CommandIo): Promise<number>;
}

const spec = async () => require("./commands/spec") as typeof import("./commands/spec");
const plan = async () => require("./commands/plan") as typeof import("./commands/plan");
const policy = async () => require("./commands/policy") as typeof import("./commands/policy");
const graph = async () => require("./commands/graph") as typeof import("./commands/graph");
const serve = async () => require("./commands/serve") as typeof import("./commands/serve");
const gatewayConfig = async () => require("./commands/gateway-config") as typeof import("./commands/gateway-config");
const up = async () => require("./commands/up") as typeof import("./commands/up");
const rollout = async () => require("./commands/rollout") as typeof import("./commands/rollout");

const str = { type: "string" } as const;
const flag = { type: "boolean" } as const;

const COMMANDS: Record<string, Command> = {
  init: {
    usage: async () => (require("./commands/init") as typeof import("./commands/init")).INIT_USAGE,
    options: { name: str },
    positionals: [0, 1],
    run: async (v, [dir], io) =>
      (require("./commands/init") as typeof import("./commands/init")).initCommand({ dir, name: v.name as string }, io),
  },
  spec: {
    usage: async () => (await spec()).SPEC_USAGE,
    options: { target: str },
    positionals: [1, 1],
    run: async (v, [app], io) => (await spec()).specCommand({ app, target: v.target as string | undefined }, io),
  },
  plan: {
    usage: async () => (await plan()).PLAN_USAGE,
    options: { target: str, json: flag, out: str, "stack-config": str },
    positionals: [1, 1],
    run: async (v, [app], io) =>
      (await plan()).planCommand(
        { app, target: v.target as string, json: v.json as boolean, out: v.out as string, stackConfig: v["stack-config"] as string },
        io,
      ),
  },
  policy: {
    usage: async () => (await policy()).POLICY_USAGE,
    options: {
      target: { type: "string", multiple: true },
      format: str,
      "policy-config": str,
      "stack-config": { type: "string", multiple: true },
    },
    positionals: [1, 1],
    run: async (v, [app], io) =>
      (await policy()).policyCommand(
        {
          app,
          targets: (v.target as string[] | undefined) ?? [],
          format: v.format as string,
          policyConfig: v["policy-config"] as string,
          stackConfigs: (v["stack-config"] as string[] | undefined) ?? [],
        },
        io,
      ),
  },
  graph: {
    usage: async () => (await graph()).GRAPH_USAGE,
    options: { target: str, out: str },
    positionals: [1, 1],
    run: async (v, [app], io) =>
      (await graph()).graphCommand({ app, target: v.target as string | undefined, out: v.out as string | undefined }, io),
  },
  serve: {
    usage: async () => (await serve()).SERVE_USAGE,
    options: {
      port: str,
      host: str,
      spec: str,
      endpoints: str,
      config: str,
      redis: str,
      root: str,
      only: str,
      region: str,
      artifact: str,
      "model-url": { type: "string", multiple: true },
    },
    positionals: [0, 1],
    run: async (v, [app], io) => {
      const port = Number(v.port ?? process.env.PORT ?? 8080);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${String(v.port)} is not a port number`);
      return (await serve()).serveCommand(
        {
          ...(v as Record<string, string>),
          app,
          modelUrls: (v["model-url"] as string[]) ?? [],
          port,
          host: (v.host as string) ?? "127.0.0.1",
        },
        io,
      );
    },
  },
  gateway: {
    usage: async () => {
      const { GATEWAY_CONFIG_USAGE, GATEWAY_URL_USAGE } = await gatewayConfig();
      return `${GATEWAY_CONFIG_USAGE}\n\n${GATEWAY_URL_USAGE}`;
    },
    options: { "stack-output": str, out: str },
    positionals: [1, 1],
    run: async (v, [sub], io) => {
      if (sub === "url") return (await gatewayConfig()).gatewayUrlCommand({ stackOutput: v["stack-output"] as string }, io);
      if (sub !== "config") throw new UsageError(`unknown gateway subcommand "${sub}"; try: cloudloom gateway config, or gateway url`);
      return (await gatewayConfig()).gatewayConfigCommand({ stackOutput: v["stack-output"] as string, out: v.out as string }, io);
    },
  },
  rollout: {
    usage: async () => (await rollout()).ROLLOUT_USAGE,
    options: { route: str, gateway: str, json: flag },
    positionals: [1, 1],
    run: async (v, [subcommand], io) =>
      (await rollout()).rolloutCommand(
        { subcommand, route: v.route as string | undefined, gateway: v.gateway as string | undefined, json: v.json as boolean | undefined },
        io,
      ),
  },
  // up, preview, destroy: the stack program through Pulumi's Automation API.
  ...Object.fromEntries(
    (["up", "preview", "destroy"] as const).map((operation): [string, Command] => [
      operation,
      {
        usage: async () => (await up()).upUsage(operation),
        options: {
          target: str,
          stack: str,
          config: { type: "string", multiple: true },
          secret: { type: "string", multiple: true },
          "stack-config": str,
          backend: str,
          ...(operation === "up" ? { outputs: str } : operation === "destroy" ? { yes: flag } : {}),
        },
        positionals: [1, 1],
        run: async (v, [app], io) =>
          (await up()).upCommand(
            operation,
            {
              app,
              target: v.target as string | undefined,
              stack: v.stack as string | undefined,
              config: v.config as string[] | undefined,
              secrets: v.secret as string[] | undefined,
              stackConfig: v["stack-config"] as string | undefined,
              backend: v.backend as string | undefined,
              outputs: v.outputs as string | undefined,
              yes: v.yes as boolean | undefined,
            },
            io,
          ),
      },
    ]),
  ),
};

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], io: CommandIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h") {
    io.out(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v" || name === "-V") {
    const { version } = JSON.parse(readFileSync(join(__dirname, "../package.json"), "utf8")) as { version: string };
    io.out(`${version}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`unknown command "${name}"\n\n${USAGE}\n`);
    return 2;
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { ...command.options, help: { type: "boolean", short: "h" } },
    });
    if (values.help) return usage(io, await command.usage(), 0);
    if (positionals.length < command.positionals[0] || positionals.length > command.positionals[1])
      return usage(io, await command.usage(), 2);
    return await command.run(values as Values, positionals, io);
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: CommandIo): number {
  const code = (error as { code?: string } | undefined)?.code;
  if (error instanceof UsageError || code?.startsWith("ERR_PARSE_ARGS")) {
    io.err(`${(error as Error).message}\n`);
    return 2;
  }
  // AppLoadError, matched by its code so that this module need not load the SDK.
  if (code === "CL_APP_LOAD") {
    io.err(`${(error as Error).message}\n  fix: ${(error as { fix?: string }).fix}\n`);
    return 2;
  }
  if (code === "CL_MISSING_CREDENTIAL") {
    io.err(`${(error as Error).message}\n`);
    return 2;
  }
  if (
    code === "CL_GATEWAY_CONFIG" ||
    code === "CL_INVALID_SPEC" ||
    code === "CL_TARGET_CONFIG" ||
    code === "CL_TRACING_SETTING" ||
    code === "CL_SCHEDULE_UNSUPPORTED"
  ) {
    io.err(`${(error as Error).message}\n`);
    return 1;
  }
  throw error;
}

function usage(io: CommandIo, text: string, code: number): number {
  (code === 0 ? io.out : io.err)(`${text}\n`);
  return code;
}

/**
 * The `cloudloom` command line. Exit codes: 0 success, 1 the app or plan has
 * problems, 2 usage error (unknown command or flag, missing file).
 */
import { parseArgs } from "node:util";
import { AppLoadError } from "../sdk/load-app";
import { serveCommand, ServeUsageError, SERVE_USAGE } from "./commands/serve";
import { specCommand, SPEC_USAGE } from "./commands/spec";
import { processIo, type CommandIo } from "./io";

const USAGE = `cloudloom <command> [options]

Commands:
  spec <app>    print the app's validated Spec v1, or its problems
  serve [<app>] serve the app on the embedded local target

Run \`cloudloom <command> --help\` for a command's options.`;

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], io: CommandIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === "--help" || command === "-h") {
      io.out(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    }
    if (command === "spec") {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { target: { type: "string" }, help: { type: "boolean", short: "h" } },
      });
      if (values.help) return usage(io, SPEC_USAGE, 0);
      if (positionals.length !== 1) return usage(io, SPEC_USAGE, 2);
      return specCommand({ app: positionals[0], target: values.target }, io);
    }
    if (command === "serve") {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          port: { type: "string" },
          host: { type: "string" },
          spec: { type: "string" },
          endpoints: { type: "string" },
          config: { type: "string" },
          root: { type: "string" },
          only: { type: "string" },
          region: { type: "string" },
          artifact: { type: "string" },
          "model-url": { type: "string", multiple: true },
          help: { type: "boolean", short: "h" },
        },
      });
      if (values.help) return usage(io, SERVE_USAGE, 0);
      const port = Number(values.port ?? process.env.PORT ?? 8080);
      if (positionals.length > 1 || !Number.isInteger(port) || port < 0 || port > 65535) return usage(io, SERVE_USAGE, 2);
      return await serveCommand(
        { ...values, app: positionals[0], modelUrls: values["model-url"] ?? [], port, host: values.host ?? "127.0.0.1" },
        io,
      );
    }
    io.err(`unknown command "${command}"\n\n${USAGE}\n`);
    return 2;
  } catch (error) {
    if (error instanceof ServeUsageError) {
      io.err(`${error.message}\n`);
      return 2;
    }
    if ((error as { code?: string }).code === "CL_GATEWAY_CONFIG") {
      io.err(`${(error as Error).message}\n`);
      return 1;
    }
    if (error instanceof AppLoadError) {
      io.err(`${error.message}\n  fix: ${error.fix}\n`);
      return 2;
    }
    if (error instanceof TypeError && (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.err(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

function usage(io: CommandIo, text: string, code: number): number {
  (code === 0 ? io.out : io.err)(`${text}\n`);
  return code;
}

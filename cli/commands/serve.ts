/** `cloudloom serve [<app>]`: the app on the embedded local target. */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { RuntimeScope } from "../../gateway/local/runtime";
import { sampleSize } from "../../gateway/local/signature";
import { LocalGateway } from "../../gateway/local/server";
import { formatProblems, validate, type SpecV1 } from "../../sdk";
import { loadApp } from "../../sdk/load-app";
import type { CommandIo } from "../io";

/** Usage text of the serve command. */
export const SERVE_USAGE = `cloudloom serve [<app>] [--port N] [--host H]
cloudloom serve --spec FILE [--root DIR] --only model:<name@version>|function:<name>
                [--region R] [--artifact PATH] [--model-url <name@version>=<url> ...]

Serves the app on the embedded local target: functions in-process, models on
onnxruntime-node. <app> defaults to examples/support-desk; the port to $PORT
or 8080. Stops cleanly on SIGINT/SIGTERM, finishing in-flight requests.

With --spec and --only, serves one entry of a Spec v1 file in one region, as
a cluster pod does: a model at POST /_cloudloom/models/<name@version>, a
function at POST /_cloudloom/functions/<name>, calling its models at the
--model-url servers.

Exit codes: 0 stopped cleanly, 1 the app or spec has problems, 2 usage error.`;

/** Options of a scoped (single-entry) server, as given on the command line. */
export interface ScopedServeArgs {
  spec: string;
  root?: string;
  only?: string;
  region?: string;
  artifact?: string;
  modelUrls: string[];
}

/** A ready-to-paste request body for a route. */
function exampleBody(spec: SpecV1, root: string, routeKey: string): unknown {
  const target = spec.routes[routeKey].target;
  if (target.kind === "function") {
    const handler = spec.functions[target.name].handler;
    return (require(resolve(root, handler.module)) as { example?: unknown }).example ?? {};
  }
  const [version] = Object.keys(target.weights);
  const inputs = spec.models[`${target.name}@${version}`].signature.inputs;
  return { inputs: Object.fromEntries(Object.entries(inputs).map(([name, tensor]) => [name, new Array(sampleSize(tensor)).fill(0)])) };
}

/** Thrown for command-line values that do not fit the spec. */
export class ServeUsageError extends Error {}

/** Reads a scoped server's spec and scope, refusing what does not fit. */
export function loadScoped(args: ScopedServeArgs): { spec: SpecV1; root: string; scope: RuntimeScope } | { problems: string } {
  const result = validate(JSON.parse(readFileSync(args.spec, "utf8")));
  if (!result.ok) return { problems: formatProblems(result.problems) };
  const spec = result.spec;
  const [kind, name] = (args.only ?? "").split(/:(.*)/s);
  if ((kind !== "model" && kind !== "function") || !name)
    throw new ServeUsageError("--only must be model:<name@version> or function:<name>");
  const entries = kind === "model" ? spec.models : spec.functions;
  if (!Object.hasOwn(entries, name))
    throw new ServeUsageError(`--only ${args.only}: the spec declares no ${kind} "${name}"; it has: ${Object.keys(entries).join(", ")}`);
  if (args.region && !Object.hasOwn(spec.regions, args.region))
    throw new ServeUsageError(`--region ${args.region}: the spec declares no such region`);
  const remoteModels = Object.fromEntries(
    args.modelUrls.map((pair) => {
      const at = pair.indexOf("=");
      if (at <= 0) throw new ServeUsageError(`--model-url ${pair}: write it as <name@version>=<url>`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  return {
    spec,
    root: resolve(args.root ?? "."),
    scope: { only: { kind, name }, region: args.region, artifact: args.artifact && resolve(args.artifact), remoteModels },
  };
}

/** Runs one entry of a spec file until a signal stops it. */
export async function serveScopedCommand(args: ScopedServeArgs & { port: number; host: string }, io: CommandIo): Promise<number> {
  const loaded = loadScoped(args);
  if ("problems" in loaded) {
    io.err(`${args.spec} has problems:\n${loaded.problems}\n`);
    return 1;
  }
  const gateway = new LocalGateway(loaded);
  const address = await gateway.listen(args.port, args.host);
  io.out(`cloudloom: serving ${args.only} on http://${address.address}:${address.port}\n`);
  await untilSignal(gateway, io);
  return 0;
}

/** Runs the gateway until a signal stops it. */
export async function serveCommand(args: { app: string; port: number; host: string }, io: CommandIo): Promise<number> {
  const app = loadApp(args.app);
  const problems = app.problems();
  if (problems.length > 0) {
    io.err(`app "${app.name}" has problems; run \`cloudloom spec ${args.app}\` to list them\n`);
    return 1;
  }
  const spec = app.toDraft();
  const gateway = new LocalGateway({ spec, root: app.root });
  const address = await gateway.listen(args.port, args.host);
  const base = `http://${address.address}:${address.port}`;
  io.out(`cloudloom: serving "${spec.app}" on ${base} (local target)\n\nRoutes:\n`);
  for (const key of Object.keys(spec.routes)) {
    const [method, path] = key.split(" ");
    const body = JSON.stringify(exampleBody(spec, app.root, key));
    io.out(
      `  ${key}\n    curl -s -X ${method} ${base}${path} -H 'content-type: application/json' -H '${"x-cloudloom-locality"}: de' -d '${body}'\n`,
    );
  }
  io.out(`\nMetrics: ${base}/metrics   Health: ${base}/healthz\nPress Ctrl-C to stop.\n`);
  await untilSignal(gateway, io);
  return 0;
}

function untilSignal(gateway: LocalGateway, io: CommandIo): Promise<void> {
  return new Promise<void>((resolveStop) => {
    const stop = (signal: string) => {
      io.out(`\n${signal}: finishing in-flight requests...\n`);
      void gateway.close().then(resolveStop);
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
}

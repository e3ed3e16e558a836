/** `cloudloom serve [<app>]`: the app on the embedded local target. */
import { resolve } from "node:path";
import { sampleSize } from "../../gateway/local/signature";
import { LocalGateway } from "../../gateway/local/server";
import type { SpecV1 } from "../../sdk";
import { loadApp } from "../../sdk/load-app";
import type { CommandIo } from "../io";

/** Usage text of the serve command. */
export const SERVE_USAGE = `cloudloom serve [<app>] [--port N] [--host H]

Serves the app on the embedded local target: functions in-process, models on
onnxruntime-node. <app> defaults to examples/support-desk; the port to $PORT
or 8080. Stops cleanly on SIGINT/SIGTERM, finishing in-flight requests.

Exit codes: 0 stopped cleanly, 1 the app has problems, 2 usage error.`;

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
  await new Promise<void>((resolveStop) => {
    const stop = (signal: string) => {
      io.out(`\n${signal}: finishing in-flight requests...\n`);
      void gateway.close().then(resolveStop);
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  return 0;
}

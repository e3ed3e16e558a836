/** `cloudloom graph <app> [--target T] [--out FILE]`: the app graph as a standalone SVG. */
import { writeFileSync } from "node:fs";
import { describeTarget } from "../../providers/registry";
import { formatProblems, isTarget, TARGETS } from "../../sdk";
import { appGraph, layoutGraph, renderSvg } from "../../sdk/graph";
import { loadApp } from "../../sdk/load-app";
import type { CommandIo } from "../io";

/** Usage text of the graph command. */
export const GRAPH_USAGE = `cloudloom graph <app> [--target aws|alicloud|kubernetes] [--out app.svg]

Draws the app as a graph: routes, functions, model versions, GPU pools,
scaling policies and regions, and how they connect. The SVG is standalone
(no scripts, fonts or images to fetch) and deterministic: the same app gives
the same bytes, so it can be committed and diffed. With --target, each entry
also says what it becomes there. Without --out, the SVG goes to stdout.

Exit codes: 0 drawn, 1 the app has problems (for the target), 2 usage error.`;

/** Options of the graph command. */
export interface GraphArgs {
  app: string;
  target?: string;
  out?: string;
}

/** Runs the graph command. */
export async function graphCommand(args: GraphArgs, io: CommandIo): Promise<number> {
  if (args.target !== undefined && !isTarget(args.target)) {
    io.err(`--target ${args.target} is not a target; choose one of: ${TARGETS.join(", ")}\n`);
    return 2;
  }
  const app = loadApp(args.app);
  const problems = app.problems({ target: args.target });
  if (problems.length > 0) {
    io.err(`app "${app.name}" has ${problems.length} problem(s):\n${formatProblems(problems)}\n`);
    return 1;
  }
  const spec = app.toDraft();
  const notes = args.target ? describeTarget(args.target).becomes?.(spec) : undefined;
  const svg = renderSvg(await layoutGraph(appGraph(spec, notes, args.target)));
  if (!args.out) {
    io.out(svg);
    return 0;
  }
  writeFileSync(args.out, svg);
  io.err(`wrote ${args.out}\n`);
  return 0;
}

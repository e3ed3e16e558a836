/** `cloudloom spec <app> [--target T]`: the validated spec, or every problem. */
import { formatProblems, toCanonicalJson } from "../../sdk";
import { loadApp } from "../../sdk/load-app";
import type { CommandIo } from "../io";

/** Usage text of the spec command. */
export const SPEC_USAGE = `cloudloom spec <app> [--target aws|alicloud|kubernetes]

Prints the app's validated Spec v1 as JSON. With --target, also checks
placement, accelerators and limits for that target.

Exit codes: 0 valid, 1 the app has problems (listed on stderr), 2 usage error.`;

/** Runs the spec command. */
export function specCommand(args: { app: string; target?: string }, io: CommandIo): number {
  const app = loadApp(args.app);
  const problems = app.problems({ target: args.target });
  if (problems.length > 0) {
    io.err(`app "${app.name}" has ${problems.length} problem(s):\n${formatProblems(problems)}\n`);
    return 1;
  }
  io.out(toCanonicalJson(app.toDraft()));
  return 0;
}

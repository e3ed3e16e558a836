/** `cloudloom gateway config`: the gateway's endpoints file from `pulumi stack output --json`. */
import { readFileSync, writeFileSync } from "node:fs";
import { EndpointsSchema } from "../../sdk/spec";
import type { CommandIo } from "../io";

/** Usage text of the gateway config command. */
export const GATEWAY_CONFIG_USAGE = `cloudloom gateway config [--stack-output FILE] [--out FILE]

Reads \`pulumi stack output --json\` (from FILE, or standard input) and writes
the gateway's endpoints file (to --out, or standard output):

  pulumi stack output --json | cloudloom gateway config --out endpoints.json
  cloudloom serve --spec spec.json --endpoints endpoints.json

Exit codes: 0 written, 1 the stack output has no valid endpoints map, 2 usage error.`;

/** Runs the gateway config command. */
export function gatewayConfigCommand(
  args: { stackOutput?: string; out?: string },
  io: CommandIo,
  stdin: () => string = () => readFileSync(0, "utf8"),
): number {
  let outputs: unknown;
  try {
    outputs = JSON.parse(args.stackOutput ? readFileSync(args.stackOutput, "utf8") : stdin());
  } catch (error) {
    io.err(`the stack output is not JSON: ${(error as Error).message}\n`);
    return 1;
  }
  const parsed = EndpointsSchema.safeParse((outputs as { endpoints?: unknown } | null)?.endpoints);
  if (!parsed.success) {
    io.err(
      `the stack output has no valid "endpoints" map:\n${parsed.error.issues.map((i) => `  endpoints.${i.path.join(".")}: ${i.message}`).join("\n")}\n`,
    );
    return 1;
  }
  const json = `${JSON.stringify(parsed.data, null, 2)}\n`;
  if (args.out) writeFileSync(args.out, json);
  else io.out(json);
  return 0;
}

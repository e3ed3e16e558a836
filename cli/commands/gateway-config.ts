/**
 * `cloudloom gateway config` and `cloudloom gateway url`: the gateway's
 * endpoints file, and the URL clients call, from `pulumi stack output --json`.
 */
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

/** Usage text of the gateway url command. */
export const GATEWAY_URL_USAGE = `cloudloom gateway url [--stack-output FILE]

Prints the URL clients call, the stack's \`gatewayUrl\` output, from
\`pulumi stack output --json\` (FILE, or standard input):

  curl -s -X POST "$(pulumi stack output --json | cloudloom gateway url)/v1/classify" ...

Exit codes: 0 printed, 1 the stack output has no gateway URL, 2 usage error.`;

/** The stack's outputs, parsed; undefined (with the reason on stderr) when they are not JSON. */
function stackOutputs(args: { stackOutput?: string }, io: CommandIo, stdin: () => string): Record<string, unknown> | undefined {
  try {
    const outputs = JSON.parse(args.stackOutput ? readFileSync(args.stackOutput, "utf8") : stdin()) as unknown;
    return outputs && typeof outputs === "object" ? (outputs as Record<string, unknown>) : {};
  } catch (error) {
    io.err(`the stack output is not JSON: ${(error as Error).message}\n`);
    return undefined;
  }
}

/** Runs the gateway url command. */
export function gatewayUrlCommand(
  args: { stackOutput?: string },
  io: CommandIo,
  stdin: () => string = () => readFileSync(0, "utf8"),
): number {
  const outputs = stackOutputs(args, io, stdin);
  if (!outputs) return 1;
  const url = outputs.gatewayUrl;
  if (typeof url !== "string" || !/^https?:\/\//.test(url)) {
    io.err(`the stack output has no "gatewayUrl" (an http(s) URL); was the stack deployed with this version of cloudloom?\n`);
    return 1;
  }
  io.out(`${url}\n`);
  return 0;
}

/** Runs the gateway config command. */
export function gatewayConfigCommand(
  args: { stackOutput?: string; out?: string },
  io: CommandIo,
  stdin: () => string = () => readFileSync(0, "utf8"),
): number {
  const outputs = stackOutputs(args, io, stdin);
  if (!outputs) return 1;
  const parsed = EndpointsSchema.safeParse(outputs.endpoints);
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

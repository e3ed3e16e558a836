/**
 * Bundles a function's handler with the cloudloom Lambda adapter into one
 * self-contained `index.js` (esbuild), the zip Lambda runs as `index.handler`.
 */
import { resolve } from "node:path";
import { buildSync } from "esbuild";
import * as pulumi from "@pulumi/pulumi";
import type { FunctionSpec } from "../../sdk/spec";

const ADAPTER = resolve(__dirname, "../../gateway/lambda/adapter.ts");

/** The bundled source of one function: its handler module wrapped by `lambdaHandler`. */
export function bundleSource(root: string, spec: FunctionSpec): string {
  const entry = [
    `import * as handlerModule from ${JSON.stringify(resolve(root, spec.handler.module))};`,
    `import { lambdaHandler } from ${JSON.stringify(ADAPTER)};`,
    `export const handler = lambdaHandler(handlerModule[${JSON.stringify(spec.handler.export)}]);`,
  ].join("\n");
  const result = buildSync({
    stdin: { contents: entry, resolveDir: root, sourcefile: "cloudloom-entry.ts", loader: "ts" },
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    write: false,
    legalComments: "none",
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

/** The function's deployment package: `index.js` only. */
export function bundleArchive(root: string, spec: FunctionSpec): pulumi.asset.AssetArchive {
  return new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(bundleSource(root, spec)) });
}

/**
 * Bundles a function's handler with a cloudloom serverless adapter into one
 * self-contained `index.js` (esbuild): Lambda and Function Compute both run
 * it as `index.handler`.
 */
import { resolve } from "node:path";
import { buildSync } from "esbuild";
import { zipSync } from "fflate";
import * as pulumi from "@pulumi/pulumi";
import type { FunctionSpec } from "../../sdk/spec";

/** The adapter of each serverless platform: its module and the wrapper it exports. */
export const ADAPTERS = {
  lambda: { module: resolve(__dirname, "../../gateway/serverless/adapter.ts"), wrapper: "lambdaHandler" },
  fc: { module: resolve(__dirname, "../../gateway/serverless/fc.ts"), wrapper: "fcHandler" },
} as const;

/** The bundled source of one function: its handler module wrapped by the platform's adapter. */
export function bundleSource(root: string, spec: FunctionSpec, platform: keyof typeof ADAPTERS = "lambda"): string {
  const adapter = ADAPTERS[platform];
  const entry = [
    `import * as handlerModule from ${JSON.stringify(resolve(root, spec.handler.module))};`,
    `import { ${adapter.wrapper} } from ${JSON.stringify(adapter.module)};`,
    `export const handler = ${adapter.wrapper}(handlerModule[${JSON.stringify(spec.handler.export)}]);`,
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

/** Lambda's deployment package: `index.js` only. */
export function bundleArchive(root: string, spec: FunctionSpec): pulumi.asset.AssetArchive {
  return new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(bundleSource(root, spec, "lambda")) });
}

/** FC's code package: a zip holding `index.js`, base64-encoded, with a fixed timestamp so it is byte-stable. */
export function bundleZipBase64(root: string, spec: FunctionSpec): string {
  const zip = zipSync({ "index.js": [Buffer.from(bundleSource(root, spec, "fc")), { mtime: new Date("2020-01-01T00:00:00Z") }] });
  return Buffer.from(zip).toString("base64");
}

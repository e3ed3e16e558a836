/**
 * Bundles a function's handler with a cloudloom serverless adapter into one
 * self-contained `index.js` (esbuild): Lambda and Function Compute both run
 * it as `index.handler`.
 */
import { resolve } from "node:path";
import { build } from "esbuild";
import { zipSync } from "fflate";
import * as pulumi from "@pulumi/pulumi";
import type { FunctionSpec } from "../../sdk/spec";

/** The adapter of each serverless platform: its module and the wrapper it exports. */
export const ADAPTERS = {
  lambda: { module: resolve(__dirname, "../../gateway/serverless/adapter.ts"), wrapper: "lambdaHandler" },
  fc: { module: resolve(__dirname, "../../gateway/serverless/fc.ts"), wrapper: "fcHandler" },
} as const;

/** The entry module of one function: its handler wrapped by the platform's adapter. */
function entrySource(root: string, spec: FunctionSpec, platform: keyof typeof ADAPTERS): string {
  const adapter = ADAPTERS[platform];
  return [
    `import * as handlerModule from ${JSON.stringify(resolve(root, spec.handler.module))};`,
    `import { ${adapter.wrapper} } from ${JSON.stringify(adapter.module)};`,
    `export const handler = ${adapter.wrapper}(handlerModule[${JSON.stringify(spec.handler.export)}]);`,
  ].join("\n");
}

const ENTRY = "cloudloom-entry";

/**
 * Bundles every function of an app in one esbuild run (the adapter and its
 * dependencies are parsed once, not once per function); resolves to each
 * function's self-contained source, by function name.
 */
export async function bundleHandlers(
  root: string,
  functions: Record<string, FunctionSpec>,
  platform: keyof typeof ADAPTERS,
): Promise<Record<string, string>> {
  const names = Object.keys(functions);
  if (names.length === 0) return {};
  const result = await build({
    entryPoints: Object.fromEntries(names.map((name, i) => [`fn-${i}`, `${ENTRY}:${name}`])),
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    outdir: "/cloudloom-bundles",
    write: false,
    legalComments: "none",
    logLevel: "silent",
    plugins: [
      {
        name: ENTRY,
        setup(esbuild) {
          esbuild.onResolve({ filter: new RegExp(`^${ENTRY}:`) }, (args) => ({
            path: args.path.slice(ENTRY.length + 1),
            namespace: ENTRY,
          }));
          esbuild.onLoad({ filter: /.*/, namespace: ENTRY }, (args) => ({
            contents: entrySource(root, functions[args.path], platform),
            resolveDir: root,
            loader: "ts",
          }));
        },
      },
    ],
  });
  const byFile = new Map(result.outputFiles.map((file) => [file.path, file.text]));
  return Object.fromEntries(names.map((name, i) => [name, byFile.get(`/cloudloom-bundles/fn-${i}.js`)!]));
}

/** Lambda's deployment package: `index.js` only. */
export function lambdaArchive(source: string): pulumi.asset.AssetArchive {
  return new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(source) });
}

/** FC's code package: a zip holding `index.js`, base64-encoded, with a fixed timestamp so it is byte-stable. */
export function fcZipBase64(source: string): string {
  const zip = zipSync({ "index.js": [Buffer.from(source), { mtime: new Date("2020-01-01T00:00:00Z") }] });
  return Buffer.from(zip).toString("base64");
}

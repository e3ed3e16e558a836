/**
 * Serverless packaging (esbuild): the cloudloom runtime, bundled once into a
 * layer, and each function's handler, bundled into its own `index.js` that
 * requires the runtime from the layer. Lambda and Function Compute both run
 * it as `index.handler`. The runtime's tracing (the OpenTelemetry SDK, most
 * of the layer's weight) is a file of its own beside it, loaded only by a
 * function that traces, so one that does not loads no more than before.
 */
import { resolve } from "node:path";
import { build } from "esbuild";
import { zipSync } from "fflate";
import * as pulumi from "@pulumi/pulumi";
import type { FunctionSpec } from "../../sdk/spec";
import { bundleEntries, bundleEntriesInWorker } from "./entry-bundle";
import { SERVERLESS_ADAPTERS, SERVERLESS_RUNTIME_MODULE } from "../../runtime/contract";

/**
 * Where the runtime sits inside a layer's archive. Lambda and FC extract
 * layers to `/opt` and put `/opt/nodejs/node_modules` on NODE_PATH, so a
 * function's `require("cloudloom-runtime")` finds it.
 */
export const RUNTIME_LAYER_PATH = `nodejs/node_modules/${SERVERLESS_RUNTIME_MODULE}/index.js`;

/** Where the runtime's tracing sits in the layer, beside RUNTIME_LAYER_PATH (which requires it as `./tracing.js`). */
export const RUNTIME_TRACING_PATH = `nodejs/node_modules/${SERVERLESS_RUNTIME_MODULE}/tracing.js`;

/** The serverless runtime's source module, as the bundler resolves it (the package's own `exports`). */
const RUNTIME_SOURCE = "cloudloom/runtime/serverless";

/** The package root, where the bundler resolves `cloudloom/...` from. */
const PACKAGE_ROOT = resolve(__dirname, "../..");

/** The entry module of one function: its handler wrapped by the platform's adapter from the runtime layer. */
function entrySource(root: string, spec: FunctionSpec, platform: keyof typeof SERVERLESS_ADAPTERS): string {
  return [
    `import * as handlerModule from ${JSON.stringify(resolve(root, spec.handler.module))};`,
    `import { ${SERVERLESS_ADAPTERS[platform]} } from ${JSON.stringify(SERVERLESS_RUNTIME_MODULE)};`,
    `export const handler = ${SERVERLESS_ADAPTERS[platform]}(handlerModule[${JSON.stringify(spec.handler.export)}]);`,
  ].join("\n");
}

/** Options shared by the runtime's bundle and the functions'. */
const BUNDLE_OPTIONS = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  write: false,
  legalComments: "none",
  logLevel: "silent",
} as const;

/** The runtime layer's module: every platform adapter and its dependencies, self-contained but for its tracing module. */
export async function bundleRuntime(): Promise<string> {
  const result = await build({
    ...BUNDLE_OPTIONS,
    stdin: { contents: `export * from ${JSON.stringify(RUNTIME_SOURCE)};`, resolveDir: PACKAGE_ROOT, loader: "ts" },
    plugins: [
      {
        name: "runtime-tracing",
        setup(esbuild) {
          // The adapter's lazy require of its tracing module stays a require, of the file beside it.
          esbuild.onResolve({ filter: /^\.\/tracing$/ }, (args) =>
            /serverless[\\/]lambda\.[jt]s$/.test(args.importer) ? { path: "./tracing.js", external: true } : undefined,
          );
        },
      },
    ],
  });
  return result.outputFiles[0].text;
}

/** The runtime layer's tracing module (RUNTIME_TRACING_PATH): the OpenTelemetry SDK and exporter, self-contained. */
export async function bundleRuntimeTracing(): Promise<string> {
  const result = await build({
    ...BUNDLE_OPTIONS,
    stdin: { contents: `export * from "./runtime/serverless/tracing";`, resolveDir: PACKAGE_ROOT, loader: "ts" },
  });
  return result.outputFiles[0].text;
}

const ENTRY = "cloudloom-entry";

/**
 * From how many functions an app's handlers are bundled in a worker thread:
 * a large program keeps the main thread busy for long (1,000 functions: the
 * worker saves half a second of a plan), while below about 300 functions the
 * worker's start-up (about 0.1 s) costs as much as it saves, or more.
 */
const WORKER_FROM_FUNCTIONS = 300;

/**
 * Bundles every function of an app in one esbuild run (in a worker thread
 * for a large app, see entry-bundle.ts); resolves to each function's source,
 * by function name. A function's source holds its handler and the handler's
 * own imports; it requires only the runtime layer's module.
 */
export async function bundleHandlers(
  root: string,
  functions: Record<string, FunctionSpec>,
  platform: keyof typeof SERVERLESS_ADAPTERS,
): Promise<Record<string, string>> {
  const names = Object.keys(functions);
  if (names.length === 0) return {};
  const bundle = names.length >= WORKER_FROM_FUNCTIONS ? bundleEntriesInWorker : bundleEntries;
  const byFile = await bundle({
    options: {
      ...BUNDLE_OPTIONS,
      entryPoints: Object.fromEntries(names.map((name, i) => [`fn-${i}`, `${ENTRY}:${name}`])),
      outdir: "/cloudloom-bundles",
      external: [SERVERLESS_RUNTIME_MODULE],
    },
    namespace: ENTRY,
    entries: Object.fromEntries(names.map((name) => [name, { contents: entrySource(root, functions[name], platform), resolveDir: root }])),
  });
  return Object.fromEntries(names.map((name, i) => [name, byFile[`/cloudloom-bundles/fn-${i}.js`]]));
}

/**
 * The packages of an app's functions for one platform: the runtime layer's
 * contents, and each function's own (its bundled `index.js`), both in the
 * platform's archive format (`pack`).
 */
export function serverlessPackages<T>(
  root: string,
  functions: Record<string, FunctionSpec>,
  platform: keyof typeof SERVERLESS_ADAPTERS,
  pack: (files: Record<string, string>) => T,
): { runtime: pulumi.Output<T>; handler: (name: string) => pulumi.Output<T> } {
  return { runtime: runtimePackage(pack), handler: handlerPackages(root, functions, platform, pack) };
}

/** The runtime layer's contents (its module and its tracing module), in the platform's archive format (`pack`). */
export function runtimePackage<T>(pack: (files: Record<string, string>) => T): pulumi.Output<T> {
  return pulumi
    .all([bundleRuntime(), bundleRuntimeTracing()])
    .apply(([source, tracing]) => pack({ [RUNTIME_LAYER_PATH]: source, [RUNTIME_TRACING_PATH]: tracing }));
}

/** Each function's own package (its bundled `index.js`), by function name, in the platform's archive format (`pack`). */
export function handlerPackages<T>(
  root: string,
  functions: Record<string, FunctionSpec>,
  platform: keyof typeof SERVERLESS_ADAPTERS,
  pack: (files: Record<string, string>) => T,
): (name: string) => pulumi.Output<T> {
  const bundles = pulumi.output(bundleHandlers(root, functions, platform));
  return (name) => bundles.apply((sources) => pack({ "index.js": sources[name] }));
}

/** A Lambda archive of `files` (path → source). */
export function lambdaArchive(files: Record<string, string>): pulumi.asset.AssetArchive {
  return new pulumi.asset.AssetArchive(
    Object.fromEntries(Object.entries(files).map(([path, source]) => [path, new pulumi.asset.StringAsset(source)])),
  );
}

/** An FC code package of `files` (path → source): a zip, base64-encoded, with a fixed timestamp so it is byte-stable. */
export function fcZipBase64(files: Record<string, string>): string {
  const mtime = new Date("2020-01-01T00:00:00Z");
  const zip = zipSync(Object.fromEntries(Object.entries(files).map(([path, source]) => [path, [Buffer.from(source), { mtime }]])));
  return Buffer.from(zip).toString("base64");
}

/**
 * The dashboard page's script and stylesheet: the browser sources of
 * gateway/ui (with uPlot) bundled by esbuild into one file each, so the page
 * loads nothing from anywhere else and works offline. `npm run build` writes
 * them next to this module's compiled file (dist/gateway/dashboard/assets),
 * and the published package serves those. Run from the sources (tsx, the
 * runtime image), the gateway bundles them itself on first use and keeps
 * them in memory.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

/** The files the page loads, by name. */
export const ASSET_FILES = { "dashboard.js": "text/javascript; charset=utf-8", "dashboard.css": "text/css; charset=utf-8" } as const;

/** A name of ASSET_FILES. */
export type AssetName = keyof typeof ASSET_FILES;

/** The bundled files. */
export type DashboardAssets = Record<AssetName, Buffer>;

/** Where `npm run build` puts the bundle, relative to this module. */
const PREBUILT = join(__dirname, "assets");
/** The page's entry, beside the sources of this module. */
const SOURCE_ENTRY = join(__dirname, "..", "ui", "main.ts");

/** Bundles the page from `entry` (gateway/ui/main.ts): minified, for the browsers of the last few years. */
export async function bundleDashboard(entry = SOURCE_ENTRY): Promise<DashboardAssets> {
  const result = await build({
    entryPoints: { dashboard: entry },
    bundle: true,
    minify: true,
    format: "iife",
    target: ["chrome109", "firefox115", "safari16"],
    outdir: "bundle",
    write: false,
    legalComments: "none",
    logLevel: "silent",
  });
  const file = (name: AssetName) => {
    const output = result.outputFiles.find((out) => out.path.endsWith(`/${name}`));
    if (!output) throw new Error(`esbuild produced no ${name} from ${entry}`);
    return Buffer.from(output.contents);
  };
  return { "dashboard.js": file("dashboard.js"), "dashboard.css": file("dashboard.css") };
}

/** Writes the bundle to `dir` (the package build: dist/gateway/dashboard/assets). */
export async function writeDashboardAssets(dir: string, entry = SOURCE_ENTRY): Promise<void> {
  const assets = await bundleDashboard(entry);
  mkdirSync(dir, { recursive: true });
  for (const name of Object.keys(ASSET_FILES) as AssetName[]) writeFileSync(join(dir, name), assets[name]);
}

/** The bundle prebuilt in `dir` if it is complete there, else bundled from `entry`. */
export async function loadDashboardAssets(dir: string, entry: string): Promise<DashboardAssets> {
  const names = Object.keys(ASSET_FILES) as AssetName[];
  if (!names.every((name) => existsSync(join(dir, name)))) return bundleDashboard(entry);
  return Object.fromEntries(names.map((name) => [name, readFileSync(join(dir, name))])) as DashboardAssets;
}

let loading: Promise<DashboardAssets> | undefined;

/**
 * The page's assets: the prebuilt bundle if there is one, else bundled from
 * the sources once per process. A failed bundle is not kept, so the next
 * request tries again.
 */
export function dashboardAssets(): Promise<DashboardAssets> {
  loading ??= loadDashboardAssets(PREBUILT, SOURCE_ENTRY).catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

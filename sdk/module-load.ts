/**
 * Loading a user's TypeScript or JavaScript module (an app or a handler),
 * and saying in one line why it failed: the file and line of a syntax
 * error, or the error it threw and where.
 */
import { isAbsolute, relative } from "node:path";

/** Extensions of modules cloudloom can load. */
export const MODULE_EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"] as const;

/**
 * Loads the module at the absolute `path`. When TypeScript is already hooked
 * into `require` (the CLI registers tsx) the module lands in the ordinary
 * require cache, so whoever loads it next gets the same module; otherwise
 * tsx's scoped `require` compiles it without registering anything.
 */
export function requireModule(path: string): Record<string, unknown> {
  if (Object.hasOwn(require.extensions, ".ts")) return require(path) as Record<string, unknown>;
  const tsx = require("tsx/cjs/api") as typeof import("tsx/cjs/api");
  return tsx.require(path, __filename) as Record<string, unknown>;
}

/** `file` relative to `where` when it lies under it, else as it is. */
export function showPath(file: string, where: string = process.cwd()): string {
  const shown = isAbsolute(file) ? relative(where, file) : file;
  return shown === "" || shown.startsWith("..") || isAbsolute(shown) ? file : shown;
}

/** Why a module failed to load, in one line; file names in it are shown relative to `where`. */
export function describeLoadError(error: unknown, where: string = process.cwd()): { message: string; syntax: boolean } {
  const show = (file: string) => showPath(file, where);
  if (!(error instanceof Error)) return { message: `it threw ${String(error)}`, syntax: false };
  // esbuild (tsx): "Transform failed with 1 error:\n/path/app.ts:2:18: ERROR: Unexpected \";\""
  const transform = /^(.+?):(\d+):(\d+): ERROR: (.+)$/m.exec(error.message);
  if (transform) return { message: `syntax error at ${show(transform[1])}:${transform[2]}:${transform[3]}: ${transform[4]}`, syntax: true };
  // V8, for JavaScript: the stack starts with "/path/app.js:2".
  if (error instanceof SyntaxError) {
    const at = /^(.+?):(\d+)\r?\n/.exec(error.stack ?? "");
    return { message: `syntax error${at ? ` at ${show(at[1])}:${at[2]}` : ""}: ${error.message}`, syntax: true };
  }
  const firstLine = error.message.split("\n")[0];
  const frame = (error.stack ?? "")
    .split("\n")
    .map((line) => /\(?((?:\/|[A-Za-z]:\\)[^()]+?):(\d+):(\d+)\)?$/.exec(line.trim()))
    .find((match) => match && !match[1].includes("/node_modules/"));
  return { message: `${error.name}: ${firstLine}${frame ? ` (at ${show(frame[1])}:${frame[2]})` : ""}`, syntax: false };
}

/**
 * Handler modules, checked before anything is deployed: each function's
 * module exists under the app's root, loads (a syntax error names its file
 * and line), and exports a function under the handler's export name. The
 * module is loaded the way the local target loads it, so this runs the
 * module's top-level code; every failure becomes a problem, never a throw.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { describeLoadError, MODULE_EXTENSIONS, requireModule, showPath } from "./module-load";
import { closest, type Problem } from "./spec";

const isFile = (path: string) => existsSync(path) && statSync(path).isFile();

/** The file `require` would load for `path`: as written, with an extension, or a directory's index. */
function findModule(path: string): string | undefined {
  if (isFile(path)) return path;
  const candidates = [...MODULE_EXTENSIONS.map((ext) => `${path}${ext}`), ...MODULE_EXTENSIONS.map((ext) => join(path, `index${ext}`))];
  return candidates.find(isFile);
}

/** A sibling of the missing `path` whose name is close to it, relative to `root`. */
function nearbyModule(root: string, path: string): string | undefined {
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return undefined;
  const siblings = readdirSync(dir).filter((name) => MODULE_EXTENSIONS.some((ext) => name.endsWith(ext)));
  const name = closest(basename(path), siblings);
  return name === undefined ? undefined : relative(root, join(dir, name));
}

/** The problems of every function's handler module under `root`. */
export function handlerProblems(root: string, functions: Readonly<Record<string, { handler?: unknown }>>): Problem[] {
  const problems: Problem[] = [];
  const loaded = new Map<string, { exports?: Record<string, unknown>; error?: unknown }>();
  for (const [name, fn] of Object.entries(functions)) {
    const handler = fn?.handler as { module?: unknown; export?: unknown } | undefined;
    // A handler of the wrong shape is already a structural problem.
    if (typeof handler?.module !== "string" || handler.module === "" || typeof handler.export !== "string") continue;
    const path = `functions.${name}.handler`;
    const wanted = resolve(root, handler.module);
    const file = findModule(wanted);
    if (file === undefined) {
      const nearby = nearbyModule(root, wanted);
      problems.push({
        code: "CL_HANDLER_MISSING",
        path,
        message: `handler module "${handler.module}" does not exist under ${root}${nearby ? `; did you mean "${nearby}"?` : ""}`,
        fix: nearby
          ? `set handler to "${nearby}"`
          : "create the module, or correct the path (it is relative to the app's root, the `root` given to new App())",
      });
      continue;
    }
    if (!loaded.has(file)) {
      try {
        loaded.set(file, { exports: requireModule(file) });
      } catch (error) {
        loaded.set(file, { error });
      }
    }
    const { exports, error } = loaded.get(file)!;
    if (exports === undefined) {
      const reason = describeLoadError(error, root);
      problems.push({
        code: "CL_HANDLER_LOAD",
        path,
        message: `handler module "${handler.module}" fails to load: ${reason.message}`,
        fix: reason.syntax
          ? "fix the syntax error at the line given"
          : `fix the error the module throws while loading (run \`npx tsx ${showPath(file)}\` to see it in full)`,
      });
      continue;
    }
    const exported = exports[handler.export];
    if (typeof exported !== "function") {
      const functions = Object.keys(exports).filter((key) => typeof exports[key] === "function");
      const suggestion = closest(handler.export, functions);
      problems.push({
        code: "CL_HANDLER_EXPORT",
        path,
        message:
          `"${handler.module}" ${exported === undefined ? "exports nothing" : `exports a ${typeof exported}`} named "${handler.export}"` +
          `${suggestion ? `; did you mean "${suggestion}"?` : "."} Its function exports: ${functions.join(", ") || "(none)"}`,
        fix: suggestion
          ? `set handler to { module: "${handler.module}", export: "${suggestion}" }, or rename the export`
          : `export the handler from the module: export const ${handler.export}: Handler = async (request, ctx) => { ... }`,
      });
    }
  }
  return problems;
}

/**
 * Finds and loads a user's app module. `examples/support-desk`,
 * `examples/support-desk/app.ts` and a module exporting `app` all work. An
 * app loaded here has `inspectFiles` on, so every command that loads an app
 * also checks its handler modules and ONNX files.
 */
import { existsSync, statSync } from "node:fs";
import { extname, join, resolve } from "node:path";
import { App } from "./app";
import { describeLoadError, MODULE_EXTENSIONS, requireModule, showPath } from "./module-load";

/** A failure to find or load an app, with a fix. */
export class AppLoadError extends Error {
  readonly code = "CL_APP_LOAD";
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = "AppLoadError";
  }
}

const POINT_AT_APP =
  "point at the app's directory or the module that declares it, e.g. examples/support-desk or examples/support-desk/app.ts";

function resolveModule(location: string): string {
  const path = resolve(location);
  if (existsSync(path) && statSync(path).isDirectory()) {
    const candidate = ["app.ts", "index.ts"].map((file) => join(path, file)).find(existsSync);
    if (!candidate) throw new AppLoadError(`${location} has no app.ts or index.ts`, POINT_AT_APP);
    return candidate;
  }
  if (!existsSync(path)) {
    const withExtension = MODULE_EXTENSIONS.map((ext) => `${path}${ext}`).find(existsSync);
    if (withExtension) return withExtension;
    throw new AppLoadError(`${location} does not exist`, "check the path; it is resolved from the current directory");
  }
  if (!(MODULE_EXTENSIONS as readonly string[]).includes(extname(path))) {
    throw new AppLoadError(`${location} is not a TypeScript or JavaScript module`, POINT_AT_APP);
  }
  return path;
}

/** Names an object's exports for a message: `a, b` or `nothing`. */
function exportNames(exports: Record<string, unknown>): string {
  const names = Object.keys(exports).filter((name) => name !== "__esModule");
  return names.length === 0 ? "nothing" : names.join(", ");
}

/**
 * Loads the `App` a module exports as default or as `app`.
 * @throws AppLoadError when the module is missing, does not load (a syntax
 * error names its file and line), or exports no App.
 */
export function loadApp(location: string): App {
  const modulePath = resolveModule(location);
  const shown = showPath(modulePath);
  let exports: Record<string, unknown>;
  try {
    exports = requireModule(modulePath) ?? {};
  } catch (error) {
    // An app that declares itself with problems and calls toSpec() while loading: report those problems.
    if ((error as { code?: unknown } | null)?.code === "CL_INVALID_SPEC") throw error;
    const reason = describeLoadError(error);
    throw new AppLoadError(
      `${shown} does not load: ${reason.message}`,
      reason.syntax
        ? "fix the syntax error at the line given"
        : `fix the error the module throws while loading (run \`npx tsx ${shown}\` to see it in full)`,
    );
  }
  const app = exports.default ?? exports.app;
  if (!(app instanceof App)) {
    const other = Object.entries(exports).find(([, value]) => value instanceof App)?.[0];
    throw new AppLoadError(
      other
        ? `${shown} exports its App as "${other}", not as default or app`
        : `${shown} does not export an App (it exports ${exportNames(exports)})`,
      "end the module with `export default app;` where app = new App(...)",
    );
  }
  app.inspectFiles = true;
  return app;
}
